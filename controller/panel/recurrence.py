"""The compose form's "recurring" choice as a validated ``schedules`` rule.

The operator picks daily or weekly (on chosen weekdays), a time of day and optionally the
first and last dates, all in Vietnam time; a weekly rule may also play on its first date
(an extra date) so "tomorrow 07:00, then every Monday" is one announcement. The rule is
checked with the calendar's own model (the same check the JSON API makes), so the panel
cannot store what the compiler would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from controller.panel import vn_dates
from controller.services.schedule_editing import ScheduleInputError, build_entry, check_not_past
from schedules import ScheduleEntry, Weekday, occurrences
from schedules.rules import Rule

FREQUENCIES = ("daily", "weekly")
WEEKDAYS = tuple(w.value for w in Weekday)


class RecurrenceError(ValueError):
    """The recurrence fields do not make a rule: ``key`` names the message in the i18n
    catalogue shown next to the form; ``reason`` is the English detail for logs and tests."""

    def __init__(self, reason: str, key: str = "rule.err.invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key


@dataclass(frozen=True)
class RecurringForm:
    """The raw form values (strings as the browser sends them)."""

    freq: str = "daily"
    weekdays: list[str] = field(default_factory=list)
    time_of_day: str = ""
    from_date: str = ""
    until: str = ""
    first_day: bool = False
    """Also play on the first date when it is not one of the weekdays ("tomorrow 07:00,
    then every Monday")."""


def _date(value: str) -> date | None:
    """dd/mm/yyyy (or ISO); a bad one raises ``vn_dates.BadDateTime`` for the route."""
    return vn_dates.parse_optional_date(value)


def _time(value: str) -> time:
    return vn_dates.parse_time(value)


def rule_data(form: RecurringForm, today: date) -> dict[str, Any]:
    """The rule as JSON for ``Announcement.rule``, before the calendar model checks it."""
    if form.freq not in FREQUENCIES:
        raise RecurrenceError(f"freq: {form.freq!r} is not daily or weekly", "rule.err.freq")
    data: dict[str, Any] = {
        "freq": form.freq,
        "start_date": (_date(form.from_date) or today).isoformat(),
        "time": _time(form.time_of_day).strftime("%H:%M"),
    }
    until = _date(form.until)
    if until is not None:
        if until.isoformat() < data["start_date"]:
            raise RecurrenceError(f"until {until} is before the first date", "rule.err.until")
        data["end_date"] = until.isoformat()
    if form.freq == "weekly":
        days = [d for d in WEEKDAYS if d in set(form.weekdays)]
        if not days:
            raise RecurrenceError(
                "weekdays: pick at least one day of the week", "rule.err.weekdays"
            )
        data["weekdays"] = days
        if form.first_day:
            data["rdates"] = [data["start_date"]]
    return data


def checked_rule(rule: dict[str, Any], now: datetime) -> Rule:
    """Validate ``rule`` inside a throwaway entry; raise :class:`RecurrenceError`."""
    data = {
        "id": "panel-recurring",
        "kind": "silence",
        "title": "x",
        "duration_s": 1,
        "targets": {"zones": ["x"]},
        "rule": rule,
    }
    try:
        entry: ScheduleEntry = build_entry(data)
    except ScheduleInputError as exc:
        raise RecurrenceError(exc.reason) from None
    try:
        check_not_past(entry, now)
    except ScheduleInputError as exc:
        raise RecurrenceError(exc.reason, "rule.err.past") from None
    assert entry.rule is not None
    return entry.rule


def first_occurrence(rule: Rule, now: datetime) -> datetime:
    """The next time it plays (stored as the announcement's ``start`` for listings)."""
    found = occurrences(rule, now, now + timedelta(days=400))
    if not found:
        raise RecurrenceError("the rule has no occurrence in the coming year", "rule.err.none")
    return found[0]
