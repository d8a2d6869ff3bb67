"""E-board content travels from a calendar entry onto every item compiled from it."""

from __future__ import annotations

import hashlib

from unit.schedules.schedule_builders import audio, daily, utc

from protocol.models import Visual
from schedules import compile_node_playlist
from schedules.compiler import content_hash

DAY = (utc("2025-03-03 00:00"), utc("2025-03-04 00:00"))
ZONES = frozenset({"xa"})
SLIDE = {
    "image": {"sha256": hashlib.sha256(b"slide").hexdigest(), "ext": "png", "size": 99},
    "duration_s": 8,
}
BOARD = {"text": "Họp dân 8 giờ", "ticker": "Nhà văn hoá thôn 1", "slides": [SLIDE]}


def test_every_repeat_of_an_entry_carries_its_visual() -> None:
    entry = audio("v", 30, rule=daily("07:00"), repeat=2, visual=BOARD)
    items = compile_node_playlist("loa-1", ZONES, [entry], *DAY).items
    assert len(items) == 2
    for item in items:
        assert item.visual == Visual.model_validate(BOARD)
        wire = item.model_dump(mode="json", exclude_none=True)["visual"]
        assert wire["slides"][0]["image"]["ext"] == "png"
        assert wire["text"] == "Họp dân 8 giờ"


def test_sound_only_items_hash_as_before_and_a_visual_changes_the_hash() -> None:
    plain = compile_node_playlist("loa-1", ZONES, [audio("v", 30, rule=daily("07:00"))], *DAY)
    assert plain.items[0].visual is None
    assert "visual" not in plain.items[0].model_dump(mode="json", exclude_none=True)
    shown = compile_node_playlist(
        "loa-1", ZONES, [audio("v", 30, rule=daily("07:00"), visual=BOARD)], *DAY
    )
    assert shown.content_hash != plain.content_hash
    assert shown.content_hash == content_hash(shown.items)
