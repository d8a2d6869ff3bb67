"""The panel's date/time fields: dd/mm/yyyy and 24-hour HH:MM, Vietnam wall time stored as UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from controller.panel.vn_dates import (
    BadDateTime,
    fmt_date,
    fmt_local_datetime,
    parse_date,
    parse_datetime,
    parse_optional_date,
    parse_time,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("25/12/2026", date(2026, 12, 25)),
        ("5/1/2027", date(2027, 1, 5)),
        (" 05/01/2027 ", date(2027, 1, 5)),
        ("05.01.2027", date(2027, 1, 5)),
        ("05-01-2027", date(2027, 1, 5)),
        ("2027-01-05", date(2027, 1, 5)),  # old links and bookmarks
        ("29/02/2028", date(2028, 2, 29)),
    ],
)
def test_dates_are_day_first(typed: str, expected: date) -> None:
    assert parse_date(typed) == expected


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("12/25/2026", "dt.bad_date"),  # the US order a English browser would give
        ("31/04/2026", "dt.bad_date"),
        ("29/02/2027", "dt.bad_date"),
        ("25/12/26", "dt.bad_date"),  # never guess the century
        ("25/12/0202", "dt.bad_year"),
        ("25/12/20266", "dt.bad_date"),
        ("01/01/1999", "dt.bad_year"),
        ("01/01/2100", "dt.bad_year"),
        ("", "dt.bad_date"),
        ("hôm nay", "dt.bad_date"),
        ("２５/１２/２０２６", "dt.bad_date"),  # full-width digits are not taken as a date
    ],
)
def test_bad_dates_say_why(typed: str, key: str) -> None:
    with pytest.raises(BadDateTime) as caught:
        parse_date(typed)
    assert caught.value.key == key and caught.value.value == typed


def test_an_empty_optional_date_is_none() -> None:
    assert parse_optional_date("  ") is None
    assert parse_optional_date("1/2/2027") == date(2027, 2, 1)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("18:30", time(18, 30)),
        ("6:05", time(6, 5)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
        ("18h30", time(18, 30)),
        ("18:30:00", time(18, 30)),
    ],
)
def test_times_are_24_hour(typed: str, expected: time) -> None:
    assert parse_time(typed) == expected


@pytest.mark.parametrize("typed", ["6:00 PM", "24:00", "18:60", "1830", "18:5", "", "sáng"])
def test_bad_times_are_refused(typed: str) -> None:
    with pytest.raises(BadDateTime) as caught:
        parse_time(typed)
    assert caught.value.key == "dt.bad_time"


def test_a_datetime_is_vietnam_wall_time_stored_as_utc() -> None:
    assert parse_datetime("25/12/2026 18:30") == datetime(2026, 12, 25, 11, 30, tzinfo=UTC)
    assert parse_datetime("01/01/2027 03:00") == datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    assert parse_datetime("2026-12-25T18:30") == datetime(2026, 12, 25, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["25/12/2026", "18:30", "12/25/2026 6:30 PM", "x y z", ""])
def test_bad_datetimes_are_refused(typed: str) -> None:
    with pytest.raises(BadDateTime):
        parse_datetime(typed)


def test_formatting_round_trips() -> None:
    at = datetime(2026, 12, 25, 11, 30, tzinfo=UTC)
    assert fmt_local_datetime(at) == "25/12/2026 18:30"
    assert parse_datetime(fmt_local_datetime(at)) == at
    assert fmt_date(date(2027, 1, 5)) == "05/01/2027" and fmt_date(None) == ""
