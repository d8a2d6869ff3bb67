"""Playlist deltas: build/apply reproduce the signed playlist exactly, and refuse otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from protocol.errors import InvalidMessage
from protocol.models import ItemKind, Playlist, PlaylistItem
from protocol.playlist_delta import (
    DeltaGap,
    PlaylistDelta,
    apply_delta,
    make_delta,
    payload_sha256,
)

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
SHA = "ab" * 32


def item(n: int, day: int, title: str = "") -> PlaylistItem:
    media = {"url": f"/media/{SHA}", "sha256": SHA, "size": 1000, "duration_s": 60}
    return PlaylistItem.model_validate(
        {
            "id": f"s{n}@{day}",
            "kind": ItemKind.AUDIO,
            "start": T0 + timedelta(days=day, hours=5 + 2 * n),
            "duration_s": 60,
            "title": title or f"Bản tin {n}",
            "media": media,
        }
    )


def payload(version: int, items: list[PlaylistItem], **extra: Any) -> dict[str, Any]:
    playlist = Playlist(
        node_id="n1",
        version=version,
        generated_at=T0 + timedelta(seconds=version),
        window_start=T0,
        window_end=T0 + timedelta(hours=48),
        items=sorted(items, key=lambda i: i.start),
    )
    return {**playlist.model_dump(mode="json", exclude_none=True), **extra}


def day(d: int) -> list[PlaylistItem]:
    return [item(n, d) for n in range(6)]


def test_a_roll_is_a_small_delta_that_rebuilds_the_new_playlist_exactly() -> None:
    old = payload(1, day(0) + day(1))
    new = payload(2, day(1) + day(2))  # day 0 rolled out, day 2 rolled in
    raw = make_delta(old, new)
    delta = PlaylistDelta.model_validate(raw)
    assert apply_delta(old, delta) == new
    assert sum(len(e.add) for e in delta.edits) == 6  # only the new day's items travel
    assert delta.result_sha256 == payload_sha256(new)


def test_changed_and_removed_items_and_unknown_fields_survive() -> None:
    old = payload(5, day(0), future_field={"x": 1})
    changed = [item(n, 0, "đổi") if n == 2 else item(n, 0) for n in range(6) if n != 4]
    new = payload(9, changed, future_field={"x": 2})
    delta = PlaylistDelta.model_validate(make_delta(old, new))
    assert apply_delta(old, delta) == new


def test_a_delta_for_another_base_is_a_gap() -> None:
    old, new = payload(1, day(0)), payload(2, day(1))
    delta = PlaylistDelta.model_validate(make_delta(old, new))
    with pytest.raises(DeltaGap) as caught:
        apply_delta(payload(3, day(0)), delta)
    assert caught.value.version == 2


def test_a_base_with_the_right_version_but_other_items_fails_the_hash() -> None:
    old, new = payload(1, day(0)), payload(2, day(0)[:3])
    delta = PlaylistDelta.model_validate(make_delta(old, new))
    other = payload(1, day(5))
    with pytest.raises(InvalidMessage, match="SHA-256"):
        apply_delta(other, delta)


@pytest.mark.parametrize(
    "change",
    [
        {"version": 1},  # not newer than its base
        {"head": {"node_id": "n1", "version": 7}},  # head for another version
        {"edits": [{"at": 3, "drop": 2}, {"at": 4}]},  # overlapping edits
        {"edits": [{"at": -1}]},
    ],
)
def test_inconsistent_deltas_fail_validation(change: dict[str, Any]) -> None:
    raw = make_delta(payload(1, day(0)), payload(2, day(1)))
    with pytest.raises(ValueError):
        PlaylistDelta.model_validate({**raw, **change})


def test_edits_past_the_end_of_the_base_are_invalid() -> None:
    raw = make_delta(payload(1, day(0)), payload(2, day(0)[:2]))
    raw["edits"] = [{"at": 5, "drop": 9}]
    with pytest.raises(InvalidMessage, match="past the end"):
        apply_delta(payload(1, day(0)), PlaylistDelta.model_validate(raw))
