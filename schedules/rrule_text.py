"""Parsing and checking RFC 5545 RRULE text before dateutil sees it.

dateutil accepts more than we want (DTSTART lines, several rules, UTC ``UNTIL`` against a
local start) and its messages are terse; here the text is split into ``KEY=VALUE`` parts,
refused with a clear reason when it cannot work, and normalised so expansion can rebuild it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from dateutil.rrule import rrulestr

from schedules.errors import ScheduleError
from schedules.local_time import to_local_naive

RRuleParts = dict[str, str]

_ALLOWED = frozenset(
    {
        "FREQ",
        "INTERVAL",
        "COUNT",
        "UNTIL",
        "WKST",
        "BYDAY",
        "BYMONTHDAY",
        "BYMONTH",
        "BYSETPOS",
        "BYHOUR",
        "BYMINUTE",
        "BYSECOND",
        "BYYEARDAY",
        "BYWEEKNO",
    }
)
_FREQS = frozenset({"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY"})


def render(parts: RRuleParts) -> str:
    """Parts back to RRULE text (in a fixed key order, so equal rules give equal text)."""
    return ";".join(f"{key}={parts[key]}" for key in sorted(parts))


def _localise_until(value: str) -> str:
    """``UNTIL=...Z`` (UTC) as Vietnam wall-clock time, because we expand in wall-clock time."""
    if not value.endswith("Z"):
        return value
    try:
        moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise ScheduleError(
            f"invalid RRULE UNTIL {value!r}: use YYYYMMDD or YYYYMMDDTHHMMSSZ"
        ) from None
    return to_local_naive(moment).strftime("%Y%m%dT%H%M%S")


def parse_rrule(text: str, first: datetime | None = None) -> RRuleParts:
    """Split and check an RRULE whose first start is ``first`` (naive local time).

    Raise :class:`ScheduleError` saying what is wrong. ``first`` matters for the check only:
    ``FREQ=HOURLY;INTERVAL=4;BYHOUR=6`` can only work when the rule starts at 6, 10, 14...
    """
    return dict(_parse_cached(text, first or datetime(2000, 1, 1)))


@lru_cache(maxsize=4096)
def _parse_cached(text: str, first: datetime) -> tuple[tuple[str, str], ...]:
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :].strip()
    if not body:
        raise ScheduleError("empty RRULE: write e.g. FREQ=WEEKLY;BYDAY=MO")
    if "\n" in body or "DTSTART" in body.upper():
        raise ScheduleError(
            "RRULE must be one rule without DTSTART: start_date and time give the start"
        )
    parts: RRuleParts = {}
    for chunk in body.rstrip(";").split(";"):
        key, sep, value = chunk.partition("=")
        key, value = key.strip().upper(), value.strip().upper()
        if not sep or not key or not value:
            raise ScheduleError(f"invalid RRULE part {chunk!r}: expected KEY=VALUE")
        if key not in _ALLOWED:
            raise ScheduleError(f"unsupported RRULE part {key}")
        if key in parts:
            raise ScheduleError(f"RRULE part {key} given twice")
        parts[key] = value
    freq = parts.get("FREQ")
    if freq is None:
        raise ScheduleError("RRULE needs FREQ (e.g. FREQ=DAILY)")
    if freq not in _FREQS:
        choices = ", ".join(sorted(_FREQS))
        raise ScheduleError(f"unsupported RRULE FREQ={freq}: use one of {choices}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ScheduleError("RRULE may not have both COUNT and UNTIL")
    if "UNTIL" in parts:
        parts["UNTIL"] = _localise_until(parts["UNTIL"])
    try:
        rrulestr(render(parts), dtstart=first)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ScheduleError(f"invalid RRULE {text.strip()!r}: {exc}") from None
    return tuple(parts.items())
