"""Rules: local-time expansion to UTC, month ends, exception dates, errors with reasons."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from unit.schedules.schedule_builders import utc

from schedules import Rule, ScheduleError, occurrences
from schedules.local_time import LOCAL_TZ
from schedules.recurrence import MAX_OCCURRENCES_PER_WINDOW, rule_dates
from schedules.rrule_text import render

RULE = TypeAdapter(Rule)


def rule(**data: Any) -> Rule:
    return RULE.validate_python(data)


def local(moments: list[datetime]) -> list[str]:
    return [m.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") for m in moments]


@pytest.mark.parametrize(
    ("data", "window", "expected"),
    [
        pytest.param(
            {"freq": "daily", "start_date": "2020-01-01", "time": "05:30"},
            ("2025-03-03 00:00", "2025-03-05 00:00"),
            ["2025-03-03 05:30", "2025-03-04 05:30"],
            id="daily-started-years-ago",
        ),
        pytest.param(
            {"freq": "daily", "start_date": "2025-03-01", "time": "06:00", "interval": 3},
            ("2025-03-05 00:00", "2025-03-12 00:00"),
            ["2025-03-07 06:00", "2025-03-10 06:00"],
            id="daily-interval-keeps-phase",
        ),
        pytest.param(
            {
                "freq": "daily",
                "start_date": "2025-03-01",
                "time": "17:00",
                "end_date": "2025-03-04",
                "exdates": ["2025-03-02"],
            },
            ("2025-03-01 00:00", "2025-03-10 00:00"),
            ["2025-03-01 17:00", "2025-03-03 17:00", "2025-03-04 17:00"],
            id="end-date-inclusive-and-exdate",
        ),
        pytest.param(
            {
                "freq": "weekly",
                "start_date": "2024-01-03",
                "time": "19:00",
                "weekdays": ["MO", "TH"],
                "interval": 2,
            },
            ("2025-03-01 00:00", "2025-03-21 00:00"),
            ["2025-03-10 19:00", "2025-03-13 19:00"],
            id="fortnightly-from-old-start",
        ),
        pytest.param(
            {"freq": "monthly", "start_date": "2024-01-01", "time": "08:00", "monthdays": [31]},
            ("2024-01-01 00:00", "2024-06-01 00:00"),
            ["2024-01-31 08:00", "2024-03-31 08:00", "2024-05-31 08:00"],
            id="day-31-skips-short-months",
        ),
        pytest.param(
            {"freq": "monthly", "start_date": "2024-01-01", "time": "08:00", "monthdays": [-1]},
            ("2024-01-15 00:00", "2024-04-15 00:00"),
            ["2024-01-31 08:00", "2024-02-29 08:00", "2024-03-31 08:00"],
            id="last-day-leap-february",
        ),
        pytest.param(
            {
                "freq": "rrule",
                "start_date": "2023-01-01",
                "time": "07:00",
                "rrule": "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1",
            },
            ("2025-03-01 00:00", "2025-05-01 00:00"),
            ["2025-03-03 07:00", "2025-04-07 07:00"],
            id="rrule-first-monday",
        ),
        pytest.param(
            {
                "freq": "rrule",
                "start_date": "2025-03-01",
                "time": "06:00",
                "rrule": "RRULE:FREQ=DAILY;UNTIL=20250302T230000Z",
            },
            ("2025-03-01 00:00", "2025-03-10 00:00"),
            ["2025-03-01 06:00", "2025-03-02 06:00", "2025-03-03 06:00"],
            id="rrule-utc-until-is-local-next-morning",
        ),
        pytest.param(
            {
                "freq": "rrule",
                "start_date": "2025-03-01",
                "time": "06:00",
                "rrule": "FREQ=HOURLY;INTERVAL=4;BYHOUR=6,10,14",
            },
            ("2025-03-04 00:00", "2025-03-05 00:00"),
            ["2025-03-04 06:00", "2025-03-04 10:00", "2025-03-04 14:00"],
            id="rrule-hourly",
        ),
        pytest.param(
            {"freq": "once", "start_date": "2025-03-03", "time": "05:00"},
            ("2025-03-03 05:00", "2025-03-03 05:01"),
            ["2025-03-03 05:00"],
            id="once-window-start-inclusive",
        ),
        pytest.param(
            {"freq": "once", "start_date": "2025-03-03", "time": "05:00"},
            ("2025-03-03 04:00", "2025-03-03 05:00"),
            [],
            id="once-window-end-exclusive",
        ),
    ],
)
def test_occurrences_in_local_time(
    data: dict[str, Any], window: tuple[str, str], expected: list[str]
) -> None:
    assert local(occurrences(rule(**data), utc(window[0]), utc(window[1]))) == expected


def test_local_time_is_utc_plus_seven() -> None:
    found = occurrences(
        rule(freq="once", start_date="2025-03-03", time="05:30"),
        datetime(2025, 3, 1, tzinfo=UTC),
        datetime(2025, 3, 5, tzinfo=UTC),
    )
    assert found == [datetime(2025, 3, 2, 22, 30, tzinfo=UTC)]


def test_rule_dates_ignores_time_and_applies_exdates() -> None:
    weekly = rule(freq="weekly", start_date="2025-01-06", weekdays=["MO"], exdates=["2025-03-10"])
    days = rule_dates(weekly, dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    assert sorted(days) == [
        dt.date(2025, 3, 3),
        dt.date(2025, 3, 17),
        dt.date(2025, 3, 24),
        dt.date(2025, 3, 31),
    ]


def test_extra_dates_give_a_first_play_before_the_weekly_days() -> None:
    """Tuesday 2025-03-04 07:00, then every Monday: the first day is not a Monday."""
    first_then_mondays = rule(
        freq="weekly", start_date="2025-03-04", weekdays=["MO"], time="07:00", rdates=["2025-03-04"]
    )
    found = occurrences(first_then_mondays, utc("2025-03-01 00:00"), utc("2025-03-25 00:00"))
    assert local(found) == [
        "2025-03-04 07:00",
        "2025-03-10 07:00",
        "2025-03-17 07:00",
        "2025-03-24 07:00",
    ]
    # without the extra date the weekly rule never plays on its (Tuesday) start date
    plain = rule(freq="weekly", start_date="2025-03-04", weekdays=["MO"], time="07:00")
    assert local(occurrences(plain, utc("2025-03-01 00:00"), utc("2025-03-10 00:00"))) == []
    # an extra date is still an ordinary date: exception dates and the end date apply to it,
    # and one that falls on a rule day is played once
    trimmed = rule(
        freq="weekly",
        start_date="2025-03-04",
        weekdays=["MO"],
        time="07:00",
        rdates=["2025-03-04", "2025-03-10", "2025-04-01"],
        exdates=["2025-03-04"],
        end_date="2025-03-20",
    )
    found = occurrences(trimmed, utc("2025-03-01 00:00"), utc("2025-05-01 00:00"))
    assert local(found) == ["2025-03-10 07:00", "2025-03-17 07:00"]
    assert rule_dates(first_then_mondays, dt.date(2025, 3, 1), dt.date(2025, 3, 9)) == {
        dt.date(2025, 3, 4)
    }


def test_untimed_rule_cannot_start_anything() -> None:
    with pytest.raises(ScheduleError, match="no time of day"):
        occurrences(
            rule(freq="daily", start_date="2025-01-01"),
            utc("2025-03-01 00:00"),
            utc("2025-03-02 00:00"),
        )


def test_runaway_rule_is_refused() -> None:
    every_minute = rule(freq="rrule", start_date="2025-01-01", time="00:00", rrule="FREQ=MINUTELY")
    with pytest.raises(ScheduleError, match=str(MAX_OCCURRENCES_PER_WINDOW)):
        occurrences(every_minute, utc("2025-03-01 00:00"), utc("2025-03-10 00:00"))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"freq": "daily", "start_date": "2025-03-02", "end_date": "2025-03-01"}, "before start"),
        ({"freq": "rrule", "start_date": "2025-03-01", "rrule": "FREQ=SOMETIMES"}, "unsupported"),
        ({"freq": "rrule", "start_date": "2025-03-01", "rrule": "  "}, "empty RRULE"),
        ({"freq": "rrule", "start_date": "2025-03-01", "rrule": "BYDAY=MO"}, "needs FREQ"),
        ({"freq": "rrule", "start_date": "2025-03-01", "rrule": "FREQ=DAILY;BYDAY=XX"}, "invalid"),
        ({"freq": "rrule", "start_date": "2025-03-01", "rrule": "FREQ=SECONDLY"}, "unsupported"),
        (
            {
                "freq": "rrule",
                "start_date": "2025-03-01",
                "rrule": "FREQ=DAILY;COUNT=2;UNTIL=20250301",
            },
            "both COUNT and UNTIL",
        ),
        (
            {
                "freq": "rrule",
                "start_date": "2025-03-01",
                "rrule": "DTSTART:20250101T000000\nRRULE:FREQ=DAILY",
            },
            "without DTSTART",
        ),
        ({"freq": "rrule", "start_date": "2025-03-01", "rrule": "FREQ=DAILY;FOO=1"}, "FOO"),
        ({"freq": "monthly", "start_date": "2025-03-01", "monthdays": [0]}, "not 0"),
        ({"freq": "monthly", "start_date": "2025-03-01", "monthdays": [32]}, "less than or equal"),
        ({"freq": "weekly", "start_date": "2025-03-01", "weekdays": []}, "at least 1"),
        ({"freq": "weekly", "start_date": "2025-03-01", "weekdays": ["XX"]}, "MO"),
        ({"freq": "once", "start_date": "2025-03-01", "end_date": "2025-03-02"}, "neither"),
        ({"freq": "once", "start_date": "2025-03-01", "rdates": ["2025-03-02"]}, "neither"),
        (
            {
                "freq": "weekly",
                "start_date": "2025-03-04",
                "weekdays": ["MO"],
                "rdates": ["2025-03-03"],
            },
            "before start_date",
        ),
        ({"freq": "yearly", "start_date": "2025-03-01"}, "does not match"),
        ({"freq": "daily", "start_date": "2025-03-01", "time": "25:00"}, "time"),
        ({"freq": "daily", "start_date": "2025-03-01", "tme": "05:00"}, "Extra inputs"),
    ],
)
def test_bad_rules_say_why(data: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        RULE.validate_python(data)


# --- the start-moving shortcut must give exactly what walking from the start gives ---------

_FREQ_PARTS = st.sampled_from(
    [
        "FREQ=DAILY",
        "FREQ=DAILY;INTERVAL=3",
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR",
        "FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SU,WE",
        "FREQ=MONTHLY",
        "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1,-1",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=YEARLY",
        "FREQ=YEARLY;BYMONTH=4",
        "FREQ=HOURLY;INTERVAL=5",
        "FREQ=HOURLY;INTERVAL=7;BYMINUTE=0,30",
        "FREQ=MINUTELY;INTERVAL=45",
        "FREQ=DAILY;BYHOUR=5,17;BYMINUTE=0",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    parts=_FREQ_PARTS,
    start=st.dates(dt.date(2022, 1, 1), dt.date(2025, 1, 1)),
    at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    offset_days=st.integers(0, 900),
    hours=st.integers(1, 24 * 40),
)
def test_moved_start_matches_walking_from_the_start(
    parts: str, start: dt.date, at: dt.time, offset_days: int, hours: int
) -> None:
    found = occurrences(
        rule(freq="rrule", start_date=start.isoformat(), time=at.isoformat(), rrule=parts),
        lo := datetime.combine(start, dt.time(), LOCAL_TZ) + timedelta(days=offset_days),
        hi := lo + timedelta(hours=hours),
    )
    walker = rrulestr(parts, dtstart=datetime.combine(start, at))
    expected = []
    for wall in walker:
        moment = wall.replace(tzinfo=LOCAL_TZ)
        if moment >= hi:
            break
        if moment >= lo:
            expected.append(moment.astimezone(UTC))
    assert found == expected


def test_render_is_order_independent() -> None:
    assert render({"FREQ": "DAILY", "INTERVAL": "2"}) == render({"INTERVAL": "2", "FREQ": "DAILY"})
