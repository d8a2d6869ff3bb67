"""Compiling one node's playlist: slots, priorities, cuts, moves, windows, determinism."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from unit.schedules.schedule_builders import audio, daily, media, once, slot, stream, utc

from protocol.models import ItemKind, Priority
from schedules import (
    BumpAction,
    BumpReason,
    CompileResult,
    ScheduleEntry,
    ScheduleError,
    compile_fleet,
    compile_node_playlist,
    content_hash,
)
from schedules.compiler import group_nodes

ZONES = frozenset({"tinh", "xa", "thon-1"})
DAY = (utc("2025-03-03 00:00"), utc("2025-03-04 00:00"))
MORNING = slot("sang", "05:30", 600, gap_s=2)


def compile_day(
    *entries: ScheduleEntry,
    node: str = "loa-1",
    zones: frozenset[str] = ZONES,
    slots: tuple[Any, ...] = (MORNING,),
) -> CompileResult:
    return compile_node_playlist(node, zones, entries, *DAY, slots=slots)


def timeline(result: CompileResult) -> list[tuple[str, str, float]]:
    return [(i.id.split("@")[0], utc_local(i.start), i.duration_s) for i in result.items]


def utc_local(moment: Any) -> str:
    return (moment + timedelta(hours=7)).strftime("%H:%M:%S")


def reasons(result: CompileResult) -> list[tuple[str, str, str]]:
    return [(b.item_id.split("@")[0], b.action.value, b.reason.value) for b in result.bumped]


def test_slot_packs_in_order_with_gaps_and_bumps_what_does_not_fit() -> None:
    result = compile_day(
        audio("a", 200, slot="sang", created_seq=1),
        audio("b", 200, slot="sang", created_seq=2, repeat=2),
        audio("c", 90, slot="sang", created_seq=3),
        audio("d", 100, slot="sang", created_seq=4, priority=Priority.EMERGENCY),
    )
    assert [(i.id, utc_local(i.start)) for i in result.items] == [
        ("d@20250302T223000Z#0", "05:30:00"),
        ("a@20250302T223000Z#0", "05:31:42"),
        ("b@20250302T223000Z#0", "05:35:04"),
        ("c@20250302T223000Z#0", "05:38:26"),
    ]
    assert reasons(result) == [("b", "bumped", "slot full")]


def test_emergency_cuts_relay_into_two_pieces_and_bumps_speech() -> None:
    result = compile_day(
        stream("vov", 1800, rule=daily("06:00")),
        audio("tb", 120, rule=daily("06:09")),
        audio("khan", 300, priority=Priority.EMERGENCY, rule=daily("06:10")),
    )
    assert [(i.id, utc_local(i.start), i.duration_s) for i in result.items] == [
        ("vov@20250302T230000Z#0", "06:00:00", 600.0),
        ("khan@20250302T231000Z#0", "06:10:00", 300.0),
        ("vov@20250302T230000Z#0+900000ms", "06:15:00", 900.0),
    ]
    by_item = {b.entry_id: b for b in result.bumped}
    assert by_item["tb"].action is BumpAction.BUMPED
    assert by_item["tb"].winner_item == "khan@20250302T231000Z#0"
    assert by_item["vov"].action is BumpAction.SHORTENED
    assert by_item["vov"].reason is BumpReason.OVERLAP


def test_equal_priority_earlier_created_wins() -> None:
    first = audio("cu", 60, rule=daily("08:00"), created_seq=1)
    later = audio("moi", 60, rule=daily("08:00:30"), created_seq=2)
    result = compile_day(later, first)
    assert [i.id.split("@")[0] for i in result.items] == ["cu"]
    assert reasons(result) == [("moi", "bumped", "overlaps higher-priority item")]


def test_speech_in_a_slot_moves_later_instead_of_being_bumped() -> None:
    result = compile_day(
        audio("a", 120, slot="sang", created_seq=1),
        audio("b", 120, slot="sang", created_seq=2),
        audio("khan", 60, priority=Priority.EMERGENCY, rule=daily("05:31")),
    )
    assert [(i.id.split("@")[0], utc_local(i.start)) for i in result.items] == [
        ("khan", "05:31:00"),
        ("a", "05:32:00"),
        ("b", "05:34:00"),
    ]
    assert [(b.entry_id, b.action) for b in result.bumped] == [
        ("a", BumpAction.MOVED),
        ("b", BumpAction.MOVED),
    ]


def test_moved_speech_is_bumped_when_the_slot_has_no_room_left() -> None:
    result = compile_day(
        audio("a", 500, slot="sang", created_seq=1),
        audio("khan", 200, priority=Priority.EMERGENCY, rule=daily("05:31")),
    )
    assert reasons(result) == [("a", "bumped", "overlaps higher-priority item")]


def test_window_edges_clip_streams_and_drop_speech() -> None:
    result = compile_day(
        stream("dem", 3600, rule=daily("23:30")),
        audio("khuya", 120, rule=daily("23:59")),
    )
    assert timeline(result)[-1] == ("dem", "23:30:00", 1800.0)  # until midnight
    # Yesterday's 23:30 relay still plays in the first 30 minutes of this window.
    assert timeline(result)[0] == ("dem", "00:00:00", 1800.0)
    assert ("khuya", "bumped", "crosses window edge") in reasons(result)
    assert all(DAY[0] <= i.start and i.end_ts <= DAY[1].timestamp() for i in result.items)


def test_tts_without_media_is_reported_not_ready() -> None:
    pending = ScheduleEntry.model_validate(
        {
            "id": "moi",
            "kind": "tts",
            "title": "Thông báo mới",
            "text": "Kính thưa bà con",
            "targets": {"zones": ["xa"]},
            "rule": daily("07:00"),
        }
    )
    result = compile_day(pending)
    assert result.items == []
    assert reasons(result) == [("moi", "bumped", "media not ready")]


def test_repeat_plays_back_to_back_with_stable_ids() -> None:
    result = compile_day(audio("lap", 45.5, repeat=3, rule=once("2025-03-03", "09:00")))
    assert [(i.id, utc_local(i.start)) for i in result.items] == [
        ("lap@20250303T020000Z#0", "09:00:00"),
        ("lap@20250303T020000Z#1", "09:00:45"),
        ("lap@20250303T020000Z#2", "09:01:31"),
    ]
    assert result.items[1].start.microsecond == 500_000


@pytest.mark.parametrize(
    ("targets", "node", "zones", "reached"),
    [
        ({"zones": ["xa"]}, "loa-1", frozenset({"tinh", "xa", "thon-1"}), True),
        ({"zones": ["thon-2"]}, "loa-1", frozenset({"tinh", "xa", "thon-1"}), False),
        ({"nodes": ["loa-1"]}, "loa-1", frozenset(), True),
        ({"nodes": ["loa-2"], "zones": ["khac"]}, "loa-1", frozenset({"xa"}), False),
    ],
)
def test_targeting(
    targets: dict[str, list[str]], node: str, zones: frozenset[str], reached: bool
) -> None:
    result = compile_day(
        audio("t", 30, rule=daily("07:00"), targets=targets), node=node, zones=zones
    )
    assert bool(result.items) is reached


def test_validity_window_limits_occurrences() -> None:
    entry = audio(
        "tuan",
        30,
        rule=daily("07:00"),
        valid_from=utc("2025-03-03 06:00"),
        valid_until=utc("2025-03-03 07:00"),
    )
    assert compile_day(entry).items == []
    entry = entry.model_copy(update={"valid_until": utc("2025-03-03 07:00:01")})
    assert len(compile_day(entry).items) == 1


def test_slot_entry_runs_only_on_its_days() -> None:
    def on(day: str) -> ScheduleEntry:
        return audio(
            "tuan",
            30,
            slot="sang",
            rule={"freq": "weekly", "start_date": "2025-01-01", "weekdays": [day]},
        )

    assert compile_day(on("TU")).items == []  # 2025-03-03 is a Monday
    assert len(compile_day(on("MO")).items) == 1


def test_same_input_in_any_order_gives_same_hash() -> None:
    entries = [
        stream("vov", 1800, rule=daily("06:00")),
        audio("a", 200, slot="sang", created_seq=1),
        audio("b", 200, slot="sang", created_seq=1),
        audio("c", 60, rule=daily("06:05"), priority=Priority.EMERGENCY),
    ]
    forward = compile_day(*entries)
    backward = compile_day(*reversed(entries))
    assert forward == backward
    assert forward.content_hash == content_hash(forward.items)


def test_items_carry_entry_fields() -> None:
    item = compile_day(audio("v", 30, rule=daily("07:00"), volume=80, late_policy="skip")).items[0]
    assert (item.kind, item.volume, item.late_policy.value, item.priority) == (
        ItemKind.AUDIO,
        80,
        "skip",
        Priority.ANNOUNCEMENT,
    )
    assert item.media == media(30, "v")


def test_fleet_compile_equals_per_node_compile() -> None:
    nodes = {
        "loa-1": frozenset({"xa", "thon-1"}),
        "loa-2": frozenset({"xa", "thon-1"}),
        "loa-3": frozenset({"xa", "thon-2"}),
        "loa-4": frozenset({"khac"}),
    }
    entries = [
        audio("xa", 100, slot="sang", targets={"zones": ["xa"]}),
        audio("thon1", 100, slot="sang", targets={"zones": ["thon-1"]}),
        audio("rieng", 100, rule=daily("05:31"), priority=3, targets={"nodes": ["loa-2"]}),
    ]
    fleet = compile_fleet(nodes, entries, *DAY, slots=[MORNING])
    for node, zones in nodes.items():
        assert fleet[node] == compile_node_playlist(node, zones, entries, *DAY, slots=[MORNING])
    assert fleet["loa-1"].content_hash != fleet["loa-2"].content_hash
    assert fleet["loa-4"].items == []
    groups = group_nodes(nodes, entries)
    assert sorted(groups.values()) == [["loa-1"], ["loa-2"], ["loa-3"], ["loa-4"]]


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (
            lambda: compile_day(
                audio("a", 1, rule=daily("07:00")), audio("a", 2, rule=daily("08:00"))
            ),
            "used twice",
        ),
        (lambda: compile_day(audio("a", 1, slot="khong-co")), "unknown slot"),
        (lambda: compile_node_playlist("n", ZONES, [], DAY[1], DAY[0]), "after window_start"),
        (
            lambda: compile_node_playlist("n", ZONES, [], DAY[0].replace(tzinfo=None), DAY[1]),
            "UTC offset",
        ),
    ],
)
def test_bad_compile_requests_raise_schedule_error(call: Any, reason: str) -> None:
    with pytest.raises(ScheduleError, match=reason):
        call()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"kind": "video"}, "'tts', 'audio', 'stream' or 'silence'"),
        ({"title": "   "}, "String should match pattern"),
        ({"kind": "tts", "media": None}, "needs text"),
        ({"media": None}, "audio entry needs media"),
        ({"kind": "stream", "media": None, "duration_s": 60}, "needs stream_url"),
        ({"kind": "silence", "media": None}, "needs duration_s"),
        ({"duration_s": 5}, "takes its duration from its media"),
        ({"slot": "sang"}, "drop rule.time"),
        ({"rule": None}, "needs a rule with a time of day, or a slot"),
        ({"rule": daily(None)}, "needs a rule with a time of day, or a slot"),
        ({"targets": {}}, "play nowhere"),
        ({"targets": {"zones": ["Thôn 1"]}}, "pattern"),
        (
            {"valid_from": utc("2025-03-04 00:00"), "valid_until": utc("2025-03-03 00:00")},
            "valid_until must be after",
        ),
        ({"valid_from": "2025-03-04T00:00:00"}, "UTC offset"),
        ({"repeat": 0}, "greater than or equal to 1"),
        ({"volume": 101}, "less than or equal to 100"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_entries_say_why(fields: dict[str, Any], reason: str) -> None:
    data: dict[str, Any] = {
        "id": "e",
        "kind": "audio",
        "title": "T",
        "media": media(10),
        "targets": {"zones": ["xa"]},
        "rule": daily("07:00"),
        **fields,
    }
    with pytest.raises(ValidationError, match=reason):
        ScheduleEntry.model_validate(data)
