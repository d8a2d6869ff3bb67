"""Playlist items with languages and visual content: valid, refused, and unchanged when absent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from protocol.models import PlaylistItem, Visual
from schedules.compiler import content_hash

SHA = "ab" * 32


def _item(**extra: Any) -> dict[str, Any]:
    return {
        "id": "ann-1@20261201T010000Z#0",
        "kind": "tts",
        "start": datetime(2026, 12, 1, 1, tzinfo=UTC).isoformat(),
        "duration_s": 12.0,
        "media": {"sha256": SHA, "ext": "mp3", "size": 100, "duration_s": 12.0},
        **extra,
    }


def test_plain_items_keep_their_wire_form_and_hash() -> None:
    """Old items (no languages, no visual) serialise exactly as before: no republish storm."""
    item = PlaylistItem.model_validate(_item())
    dumped = item.model_dump(mode="json", exclude_none=True)
    assert "languages" not in dumped and "visual" not in dumped
    assert content_hash([item]) == content_hash([PlaylistItem.model_validate(dumped)])


def test_languages_and_visual_round_trip() -> None:
    item = PlaylistItem.model_validate(
        _item(
            languages=[
                {"language": "vi", "offset_s": 0, "duration_s": 6.2},
                {"language": "tay", "offset_s": 7.0, "duration_s": 5.0},
            ],
            visual={
                "text": "Họp thôn lúc 14 giờ",
                "slides": [{"image": {"sha256": SHA, "ext": "png", "size": 10}, "duration_s": 8}],
                "ticker": "Phòng chống bão",
            },
        )
    )
    assert [p.language for p in item.languages or []] == ["vi", "tay"]
    assert item.visual is not None and item.visual.slides[0].image.filename == f"{SHA}.png"
    again = PlaylistItem.model_validate(item.model_dump(mode="json"))
    assert again == item


def test_a_visual_only_item_is_a_silence_with_a_screen() -> None:
    item = PlaylistItem.model_validate(
        {**_item(kind="silence", visual={"text": "Lịch tiêm chủng"}), "media": None}
    )
    assert item.media is None and item.visual == Visual(text="Lịch tiêm chủng")


def _slide(sha: str, ext: str, seconds: float) -> dict[str, Any]:
    image = {"sha256": sha, "ext": ext, "size": 1}
    return {"visual": {"slides": [{"image": image, "duration_s": seconds}]}}


@pytest.mark.parametrize(
    "extra",
    [
        {"languages": [{"language": "Tay!", "offset_s": 0, "duration_s": 1}]},
        {"languages": [{"language": "vi", "offset_s": -1, "duration_s": 1}]},
        {
            "visual": {
                "slides": [{"image": {"sha256": SHA, "ext": "gif", "size": 1}, "duration_s": 5}]
            }
        },
        {
            "visual": {
                "slides": [{"image": {"sha256": "x", "ext": "png", "size": 1}, "duration_s": 5}]
            }
        },
        {
            "visual": {
                "slides": [{"image": {"sha256": SHA, "ext": "png", "size": 1}, "duration_s": 0}]
            }
        },
        {"visual": {"text": "x" * 2001}},
    ],
)
def test_bad_multimedia_fields_are_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PlaylistItem.model_validate(_item(**extra))
