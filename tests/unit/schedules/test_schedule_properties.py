"""Properties of any compiled playlist: no overlap, inside the window, winners whole, stable."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from unit.schedules.schedule_builders import media, slot, utc

from protocol.models import ItemKind, Priority
from schedules import ScheduleEntry, compile_node_playlist

WINDOW = (utc("2025-03-03 05:00"), utc("2025-03-03 09:00"))
SLOTS = (slot("sang", "05:30", 900, gap_s=1), slot("tam", "08:50", 1200))
ZONES = frozenset({"xa", "thon-1"})
KINDS = [ItemKind.AUDIO, ItemKind.TTS, ItemKind.STREAM, ItemKind.SILENCE]


@st.composite
def entries(draw: st.DrawFn) -> list[ScheduleEntry]:
    count = draw(st.integers(1, 14))
    made = []
    for index in range(count):
        kind = draw(st.sampled_from(KINDS))
        seconds = draw(st.integers(1, 2400)) / draw(st.sampled_from([1, 4, 7]))
        data: dict[str, Any] = {
            "id": f"e{index}",
            "kind": kind,
            "title": f"Mục {index}",
            "priority": draw(st.sampled_from(list(Priority))),
            "repeat": draw(st.integers(1, 3)),
            "created_seq": draw(st.integers(0, 5)),
            "targets": {"zones": [draw(st.sampled_from(["xa", "thon-1", "thon-2"]))]},
        }
        if kind in (ItemKind.AUDIO, ItemKind.TTS):
            data["media"] = media(seconds, f"e{index}")
        else:
            data["duration_s"] = seconds
        if kind is ItemKind.STREAM:
            data["stream_url"] = "https://relay.example.vn/vov1.m3u8"
        if draw(st.booleans()):
            data["slot"] = draw(st.sampled_from(["sang", "tam"]))
        else:
            minute = draw(st.integers(-60, 300))
            at = (utc("2025-03-03 05:00") + timedelta(minutes=minute, hours=7)).time()
            data["rule"] = {"freq": "daily", "start_date": "2025-01-01", "time": at.isoformat()}
        made.append(ScheduleEntry.model_validate(data))
    return made


def compile_(items: list[ScheduleEntry]) -> Any:
    return compile_node_playlist("loa-1", ZONES, items, *WINDOW, slots=SLOTS)


def ms(value: float) -> int:
    return round(value * 1000)


@settings(max_examples=200, deadline=None)
@given(items=entries(), shuffle=st.randoms(use_true_random=False))
def test_compiled_playlists_are_sound(items: list[ScheduleEntry], shuffle: Any) -> None:
    result = compile_(items)
    spans = [(ms(i.start.timestamp()), ms(i.end_ts), i) for i in result.items]
    assert [s for s, _, _ in spans] == sorted(s for s, _, _ in spans)
    for (_, end, _), (start, _, _) in pairwise(spans):
        assert end <= start, "items overlap"
    lo, hi = ms(WINDOW[0].timestamp()), ms(WINDOW[1].timestamp())
    assert all(lo <= s and e <= hi for s, e, _ in spans), "item outside the window"
    assert len({i.id for i in result.items}) == len(result.items), "item ids not unique"

    # Speech and audio are never cut: whatever plays, plays whole.
    by_id = {e.id: e for e in items}
    for item in result.items:
        entry = by_id[item.id.split("@")[0]]
        if not entry.cuttable:
            assert ms(item.duration_s) == ms(entry.unit_duration_s or 0)

    shuffled = list(items)
    shuffle.shuffle(shuffled)
    again = compile_(shuffled)
    assert again.content_hash == result.content_hash
    assert again == result


@settings(max_examples=100, deadline=None)
@given(items=entries())
def test_lone_top_priority_fixed_item_is_never_touched(items: list[ScheduleEntry]) -> None:
    king = ScheduleEntry.model_validate(
        {
            "id": "vua",
            "kind": "audio",
            "title": "Khẩn cấp",
            "media": media(600, "vua"),
            "priority": 3,
            "created_seq": 0,
            "targets": {"nodes": ["loa-1"]},
            "rule": {"freq": "once", "start_date": "2025-03-03", "time": "06:00"},
        }
    )
    others = [
        e.model_copy(update={"priority": min(e.priority, Priority.ANNOUNCEMENT)}) for e in items
    ]
    result = compile_([king, *others])
    mine = [i for i in result.items if i.id.startswith("vua@")]
    assert [(i.start, i.duration_s) for i in mine] == [(utc("2025-03-03 06:00"), 600.0)]
    assert not [b for b in result.bumped if b.entry_id == "vua"]
