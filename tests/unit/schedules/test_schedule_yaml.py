"""YAML programmes: the Vi Hương example week, round trips, and errors that point at lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from unit.schedules.schedule_builders import media, utc

from protocol.models import ItemKind
from schedules import Programme, ScheduleError, compile_node_playlist
from schedules.yaml_codec import dump_programme, load_programme

EXAMPLE = Path(__file__).parents[3] / "schedules" / "examples" / "vi_huong_week.yaml"
THON_3 = frozenset({"bac-kan", "vi-huong", "vi-huong-thon-3"})
THON_4 = frozenset({"bac-kan", "vi-huong", "vi-huong-thon-4"})


def synthesised(programme: Programme) -> Programme:
    """The programme as the controller sees it after text to speech (75 s per notice)."""
    entries = tuple(
        e.model_copy(update={"media": media(75, e.id)}) if e.kind is ItemKind.TTS else e
        for e in programme.entries
    )
    return programme.model_copy(update={"entries": entries})


def titles_on(day: str, zones: frozenset[str]) -> list[tuple[str, str]]:
    programme = synthesised(load_programme(EXAMPLE.read_text(encoding="utf-8")))
    result = compile_node_playlist(
        "loa-test",
        zones,
        programme.entries,
        utc(f"{day} 00:00"),
        utc(f"{day} 23:59:59"),
        slots=programme.slots,
    )
    return [
        ((i.start.hour + 7) % 24 * 100 + i.start.minute, i.id.split("@")[0])  # type: ignore[misc]
        for i in result.items
    ]


def test_example_week_loads_and_round_trips() -> None:
    programme = load_programme(EXAMPLE.read_text(encoding="utf-8"))
    assert len(programme.slots) == 2 and len(programme.entries) == 6
    assert load_programme(dump_programme(programme)) == programme
    assert "priority: emergency" in dump_programme(programme)


def test_example_monday_evening_and_village_notice() -> None:
    monday = titles_on("2025-04-28", THON_4)
    assert (530, "tiem-phong-gia-suc") in monday
    assert (600, "tiep-song-vov1") in monday
    assert (1700, "ve-sinh-moi-truong") in monday
    assert any(entry == "cat-dien-thon-4-5" for _, entry in monday)
    assert all(entry != "cat-dien-thon-4-5" for _, entry in titles_on("2025-04-28", THON_3))


def test_example_holiday_drops_evening_bulletin_and_emergency_cuts_relay() -> None:
    holiday = titles_on("2025-04-30", THON_3)
    assert all(hhmm < 1700 for hhmm, _ in holiday)
    assert [entry for hhmm, entry in holiday if 600 <= hhmm < 700] == [
        "tiep-song-vov1",
        "phong-chay-rung",
        "tiep-song-vov1",
    ]


def test_example_one_off_meeting_only_for_its_village() -> None:
    assert [e for h, e in titles_on("2025-05-02", THON_3) if e == "hop-thon-3"] == [
        "hop-thon-3"
    ] * 2
    assert all(e != "hop-thon-3" for _, e in titles_on("2025-05-02", THON_4))


def test_times_stay_text_and_priorities_accept_names_and_numbers() -> None:
    text = """
name: Thử
slots:
  - {id: chieu, title: Chiều, rule: {freq: daily, start_date: 2025-01-01, time: 17:00},
     duration_s: 60}
entries:
  - {id: a, kind: silence, title: Nghỉ, duration_s: 5, priority: background,
     targets: {zones: [xa]}, slot: chieu}
  - {id: b, kind: silence, title: Nghỉ, duration_s: 5, priority: 3,
     targets: {zones: [xa]}, slot: chieu}
"""
    programme = load_programme(text)
    assert programme.slots[0].rule.time is not None
    assert programme.slots[0].rule.time.hour == 17
    assert [int(e.priority) for e in programme.entries] == [0, 3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty programme"),
        ("- a\n- b\n", "line 1: a programme is a mapping"),
        ("name: [unclosed\n", "line 2: not valid YAML"),
        ("name: x\n---\nname: y\n", "not valid YAML"),
        (
            "name: x\nentries:\n  - id: a\n    kind: video\n",
            "line 4: entries[0].kind: Input should",
        ),
        (
            "name: x\nentries:\n  - id: a\n    kind: tts\n",
            "line 3: entries[0].title: Field required",
        ),
        (
            "name: x\nslots:\n  - id: s\n    title: S\n    duration_s: 60\n"
            "    rule: {freq: daily, start_date: 2025-02-01, end_date: 2025-01-01, time: 05:00}\n",
            "line 6: slots[0].rule: end_date 2025-01-01 is before start_date",
        ),
        (
            "name: x\nslots:\n  - id: s\n    title: S\n    duration_s: 60\n"
            "    rule:\n      freq: rrule\n      start_date: 2025-01-01\n"
            "      rrule: FREQ=DAILY;BYDAY=XX\n",
            "line 9: slots[0].rule.rrule: invalid RRULE",
        ),
        (
            "name: x\nentries:\n  - id: a\n    kind: audio\n    title: T\n"
            "    targets: {zones: [xa]}\n    slot: khong-co\n"
            "    media: {sha256: " + "a" * 64 + ", size: 1, duration_s: 1}\n",
            "unknown slot 'khong-co'",
        ),
    ],
)
def test_bad_programmes_name_line_and_field(text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        load_programme(text)
    assert message in caught.value.reason
