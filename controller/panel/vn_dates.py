"""Dates and times as a Vietnamese operator types them: dd/mm/yyyy and 24-hour HH:MM.

The panel's date and time inputs are plain text fields, so what the browser shows never
depends on its language (an English browser turned ``type="date"`` into mm/dd/yyyy and
"06:00 PM"). This module is the one parser and formatter for those fields. It also takes
ISO forms (``2026-12-25``, ``18:30:00``, ``2026-12-25T18:30``) so old links and bookmarks
keep working. Years outside 2000-2099 are refused: a mistyped date must never become a
year such as 0202 or 20266. Datetimes are Vietnam wall time, returned as aware UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from controller.panel.timefmt import LOCAL

MIN_YEAR, MAX_YEAR = 2000, 2099
DATE_HINT, TIME_HINT = "dd/mm/yyyy", "HH:MM"

_VN_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_TIME = re.compile(r"(\d{1,2})[:hH](\d{2})(?::(\d{2}))?", re.ASCII)
_SPLIT = re.compile(r"\s+|T")

# The HTML ``pattern`` attributes matching what the parser takes (typed forms only).
DATE_PATTERN = r"\d{1,2}/\d{1,2}/\d{4}"
TIME_PATTERN = r"([01]?\d|2[0-3]):[0-5]\d"
DATETIME_PATTERN = DATE_PATTERN + r"\s+" + TIME_PATTERN


class BadDateTime(ValueError):
    """A date or time field that is not a real date/time; ``key`` is its i18n message."""

    def __init__(self, key: str, value: str) -> None:
        super().__init__(f"{key}: {value!r}")
        self.key = key
        self.value = value


def parse_date(value: str) -> date:
    """``25/12/2026`` (or ``2026-12-25``) as a date; BadDateTime otherwise."""
    text = value.strip()
    if (m := _VN_DATE.fullmatch(text)) is not None:
        day, month, year = (int(g) for g in m.groups())
    elif (m := _ISO_DATE.fullmatch(text)) is not None:
        year, month, day = (int(g) for g in m.groups())
    else:
        raise BadDateTime("dt.bad_date", value)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BadDateTime("dt.bad_year", value)
    try:
        return date(year, month, day)
    except ValueError:
        raise BadDateTime("dt.bad_date", value) from None


def parse_optional_date(value: str) -> date | None:
    return parse_date(value) if value.strip() else None


def parse_time(value: str) -> time:
    """``18:30`` (24-hour; ``18h30`` and ``18:30:00`` too) as a time; BadDateTime otherwise."""
    m = _TIME.fullmatch(value.strip())
    if m is None:
        raise BadDateTime("dt.bad_time", value)
    hour, minute = int(m.group(1)), int(m.group(2))
    second = int(m.group(3)) if m.group(3) else 0
    if hour > 23 or minute > 59 or second > 59:
        raise BadDateTime("dt.bad_time", value)
    return time(hour, minute)


def parse_datetime(value: str) -> datetime:
    """``25/12/2026 18:30`` in Vietnam time as aware UTC; BadDateTime otherwise."""
    parts = [p for p in _SPLIT.split(value.strip()) if p]
    if len(parts) != 2:
        raise BadDateTime("dt.bad_datetime", value)
    day = parse_date(parts[0])
    at = parse_time(parts[1])
    return datetime.combine(day, at, tzinfo=LOCAL).astimezone(UTC)


def fmt_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else ""


def fmt_local_datetime(value: datetime | None) -> str:
    """An aware instant as the field shows it: Vietnam wall time, ``dd/mm/yyyy HH:MM``."""
    return value.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M") if value is not None else ""
