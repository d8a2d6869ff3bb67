"""Expanding rules into instants inside a window, without walking from the rule's start.

dateutil's ``rrule`` iterates from ``dtstart`` even inside ``between``; a daily rule that
began years ago would be walked day by day on every compile. So before expanding, the start
is moved forward to the beginning of the recurrence period (day, week, month, year, hour,
minute, counted in steps of ``INTERVAL``) that contains the window start. That is only exact
when the rule does not depend on its start: rules with ``COUNT``, ``BYWEEKNO``, ``BYYEARDAY``
are walked from their real start (still capped).
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime, timedelta

from dateutil.rrule import rrulestr

from schedules.errors import ScheduleError
from schedules.local_time import local_naive_to_utc, to_local_naive
from schedules.rrule_text import RRuleParts, parse_rrule, render
from schedules.rules import DailyRule, MonthlyRule, OnceRule, RRuleRule, Rule, WeeklyRule

MAX_OCCURRENCES_PER_WINDOW = 5000
"""A rule yielding more starts than this in one window is a mistake (or an attack)."""

_WEEKDAY_INDEX = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_SUB_DAILY_SECONDS = {"HOURLY": 3600, "MINUTELY": 60}
_START_DEPENDENT = ("COUNT", "BYWEEKNO", "BYYEARDAY")


def occurrences(rule: Rule, window_start: datetime, window_end: datetime) -> list[datetime]:
    """UTC start instants of a timed ``rule`` in ``[window_start, window_end)``, ascending."""
    if rule.time is None:
        raise ScheduleError("this rule has no time of day, so it cannot start anything")
    if window_end <= window_start:
        return []
    walls = _wall_times(rule, rule.time, to_local_naive(window_start), to_local_naive(window_end))
    return [local_naive_to_utc(wall) for wall in walls]


def rule_dates(rule: Rule, first: dt.date, last: dt.date) -> frozenset[dt.date]:
    """Local dates in ``[first, last]`` on which ``rule`` falls (its time of day ignored)."""
    lo = datetime.combine(first, dt.time())
    hi = datetime.combine(last + timedelta(days=1), dt.time())
    return frozenset(wall.date() for wall in _wall_times(rule, rule.time or dt.time(), lo, hi))


def rule_parts(rule: Rule) -> RRuleParts | None:
    """The RRULE equivalent of a structured rule (``None`` for a one-off)."""
    if isinstance(rule, OnceRule):
        return None
    if isinstance(rule, DailyRule):
        return {"FREQ": "DAILY", "INTERVAL": str(rule.interval)}
    if isinstance(rule, WeeklyRule):
        days = ",".join(sorted({d.value for d in rule.weekdays}, key=_WEEKDAY_INDEX.__getitem__))
        return {"FREQ": "WEEKLY", "INTERVAL": str(rule.interval), "BYDAY": days}
    if isinstance(rule, MonthlyRule):
        days = ",".join(str(d) for d in sorted(set(rule.monthdays)))
        return {"FREQ": "MONTHLY", "INTERVAL": str(rule.interval), "BYMONTHDAY": days}
    if isinstance(rule, RRuleRule):
        return parse_rrule(rule.rrule, datetime.combine(rule.start_date, rule.time or dt.time()))
    raise AssertionError(f"unknown rule {rule!r}")  # pragma: no cover


def _wall_times(rule: Rule, at: dt.time, lo: datetime, hi: datetime) -> list[datetime]:
    """Naive local starts in ``[lo, hi)``: the rule's, plus its extra dates, after the end
    date and exception dates are applied."""
    first = datetime.combine(rule.start_date, at)
    parts = rule_parts(rule)
    if parts is None:
        walls = [first] if lo <= first < hi else []
    else:
        walls = _expand(parts, first, lo, hi)
    extra = (datetime.combine(day, at) for day in rule.rdates)
    walls = sorted({*walls, *(wall for wall in extra if lo <= wall < hi)})
    return [wall for wall in walls if not rule.excludes(wall.date())]


def _expand(parts: RRuleParts, first: datetime, lo: datetime, hi: datetime) -> list[datetime]:
    start = _aligned_start(parts, first, lo)
    if start > first:
        parts = _explicit_defaults(parts, first)
    else:
        start = first
    recurrence = rrulestr(render(parts), dtstart=start)
    found: list[datetime] = []
    for wall in recurrence.xafter(lo, inc=True):
        if wall >= hi:
            break
        found.append(wall)
        if len(found) > MAX_OCCURRENCES_PER_WINDOW:
            raise ScheduleError(
                f"rule yields more than {MAX_OCCURRENCES_PER_WINDOW} starts in one window"
            )
    return found


def _aligned_start(parts: RRuleParts, first: datetime, lo: datetime) -> datetime:
    """Start of the recurrence period containing ``lo`` (or ``first`` if nothing to skip)."""
    if lo <= first or any(key in parts for key in _START_DEPENDENT):
        return first
    freq = parts["FREQ"]
    step = int(parts.get("INTERVAL", "1"))
    if freq in _SUB_DAILY_SECONDS:
        period = step * _SUB_DAILY_SECONDS[freq]
        skipped = int((lo - first).total_seconds() // period)
        moved = first + timedelta(seconds=skipped * period)
        return moved.replace(minute=0, second=0) if freq == "HOURLY" else moved.replace(second=0)
    if freq == "DAILY":
        days = (lo.date() - first.date()).days // step * step
        return datetime.combine(first.date() + timedelta(days=days), dt.time())
    if freq == "WEEKLY":
        wkst = _WEEKDAY_INDEX[parts.get("WKST", "MO")]
        week0 = first.date() - timedelta(days=(first.weekday() - wkst) % 7)
        week_lo = lo.date() - timedelta(days=(lo.weekday() - wkst) % 7)
        weeks = (week_lo - week0).days // 7 // step * step
        return datetime.combine(week0 + timedelta(weeks=weeks), dt.time())
    if freq == "MONTHLY":
        months = ((lo.year - first.year) * 12 + lo.month - first.month) // step * step
        index = first.year * 12 + first.month - 1 + months
        return datetime(index // 12, index % 12 + 1, 1)
    years = (lo.year - first.year) // step * step  # YEARLY
    return datetime(first.year + years, 1, 1)


def _explicit_defaults(parts: RRuleParts, first: datetime) -> RRuleParts:
    """Spell out what dateutil would take from the real start, so moving the start is safe."""
    out = dict(parts)
    freq = out["FREQ"]
    if "BYMONTHDAY" not in out and "BYDAY" not in out:
        if freq == "YEARLY":
            out.setdefault("BYMONTH", str(first.month))
            out["BYMONTHDAY"] = str(first.day)
        elif freq == "MONTHLY":
            out["BYMONTHDAY"] = str(first.day)
        elif freq == "WEEKLY":
            out["BYDAY"] = next(k for k, v in _WEEKDAY_INDEX.items() if v == first.weekday())
    if freq not in _SUB_DAILY_SECONDS:
        out.setdefault("BYHOUR", str(first.hour))
    if freq != "MINUTELY":
        out.setdefault("BYMINUTE", str(first.minute))
    out.setdefault("BYSECOND", str(first.second))
    return out
