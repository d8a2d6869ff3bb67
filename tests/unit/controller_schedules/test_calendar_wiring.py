"""Pure parts of the controller's calendar wiring: queueing "now", pre-render selection,
readable validation errors, job settings defaults."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from controller.jobs.tasks import due_without_speech
from controller.services.announcements import next_free_start
from controller.services.schedule_editing import (
    ScheduleInputError,
    build_entry,
    check_not_past,
)
from protocol.models import ItemKind, MediaRef, PlaylistItem, Priority
from schedules import ProgrammeSlot, ScheduleEntry

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam


def _item(item_id: str, start_s: float, length_s: float, priority: Priority) -> PlaylistItem:
    ref = MediaRef(sha256=hashlib.sha256(item_id.encode()).hexdigest(), size=1, duration_s=length_s)
    return PlaylistItem(
        id=item_id,
        kind=ItemKind.TTS,
        start=NOW + timedelta(seconds=start_s),
        duration_s=length_s,
        priority=priority,
        media=ref,
    )


def test_now_queues_behind_equal_or_higher_priority_on_any_node() -> None:
    node_a = [_item("a", 0, 30, Priority.ANNOUNCEMENT)]
    node_b = [_item("b", 35, 10, Priority.EMERGENCY), _item("relay", 0, 600, Priority.RELAY)]
    start = next_free_start([node_a, node_b], NOW + timedelta(seconds=5), 8, Priority.ANNOUNCEMENT)
    # 5 s clashes with a (0–30); 30–38 clashes with b (35–45); first fit is 45; the relay
    # has lower priority and is cut around the announcement instead.
    assert start == NOW + timedelta(seconds=45)


def test_now_starts_at_once_when_nothing_is_planned() -> None:
    assert next_free_start([], NOW, 10, Priority.ANNOUNCEMENT) == NOW


def _entry(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": "hop-thon",
        "kind": "tts",
        "title": "Họp thôn",
        "text": "Mời bà con đi họp.",
        "targets": {"zones": ["xa-vi-huong"]},
        "rule": {"freq": "once", "start_date": "2026-12-01", "time": "09:00"},
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"text": "   "}, "text is empty"),
        (
            {
                "rule": {
                    "freq": "daily",
                    "start_date": "2026-12-05",
                    "end_date": "2026-12-01",
                    "time": "06:00",
                }
            },
            "end_date 2026-12-01 is before start_date 2026-12-05",
        ),
        (
            {
                "rule": {
                    "freq": "rrule",
                    "start_date": "2026-12-01",
                    "time": "06:00",
                    "rrule": "FREQ=SOMETIMES",
                }
            },
            "rule",
        ),
        ({"id": "ann-7"}, "reserved"),
        ({"targets": {"zones": []}}, "targets name no zone and no node"),
        ({"repeat": 0}, "repeat"),
    ],
)
def test_bad_entries_give_one_readable_reason(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(ScheduleInputError) as err:
        build_entry(_entry(**fields))
    assert reason in err.value.reason
    assert "pydantic" not in err.value.reason and "Value error" not in err.value.reason


def test_past_one_off_and_expired_validity_are_refused() -> None:
    past = build_entry(_entry(rule={"freq": "once", "start_date": "2026-12-01", "time": "07:00"}))
    with pytest.raises(ScheduleInputError, match="in the past"):
        check_not_past(past, NOW)
    check_not_past(build_entry(_entry()), NOW)  # 09:00 local is ahead of 08:00
    expired = build_entry(_entry(valid_until="2026-11-30T00:00:00Z"))
    with pytest.raises(ScheduleInputError, match="valid_until is in the past"):
        check_not_past(expired, NOW)


def test_prerender_picks_only_speech_without_media_due_soon() -> None:
    slot = ProgrammeSlot.model_validate(
        {
            "id": "sang",
            "title": "Sáng",
            "duration_s": 1800,
            "rule": {"freq": "daily", "start_date": "2026-01-01", "time": "17:00"},
        }
    )
    soon = ScheduleEntry.model_validate(_entry(id="soon"))
    later = ScheduleEntry.model_validate(
        _entry(id="later", rule={"freq": "once", "start_date": "2026-12-02", "time": "09:00"})
    )
    in_slot = ScheduleEntry.model_validate(_entry(id="in-slot", rule=None, slot="sang"))
    ready = ScheduleEntry.model_validate(
        _entry(id="ready", text=None, media={"sha256": "0" * 64, "size": 1, "duration_s": 3})
    )
    due = due_without_speech([soon, later, in_slot, ready], [slot], NOW, timedelta(hours=6))
    assert [e.id for e in due] == ["soon"]
    due = due_without_speech([soon, later, in_slot, ready], [slot], NOW, timedelta(hours=10))
    assert [e.id for e in due] == ["soon", "in-slot"]
