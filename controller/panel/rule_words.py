"""A recurrence rule in the operator's words ("Hằng tuần vào Thứ Hai lúc 07:00, thêm ngày
02/12/2026"), from the i18n catalogue: never ``FREQ=WEEKLY`` or ``MO`` on a page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from schedules import Rule
from schedules.rules import DailyRule, MonthlyRule, OnceRule, RRuleRule, WeeklyRule

Translate = Callable[..., str]
_RULE: TypeAdapter[Rule] = TypeAdapter(Rule)
_DAY_INDEX = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def parse(rule: Mapping[str, Any] | None) -> Rule | None:
    """A stored rule (JSON) as the model; None when absent or unreadable."""
    if rule is None:
        return None
    try:
        return _RULE.validate_python(dict(rule))
    except ValidationError:
        return None


def describe(rule: Rule | None, t: Translate) -> str:
    """Empty for a one-off (nothing repeats)."""
    if rule is None or isinstance(rule, OnceRule):
        return ""
    if isinstance(rule, DailyRule):
        text = t("rule.daily") if rule.interval == 1 else t("rule.every_days", n=rule.interval)
    elif isinstance(rule, WeeklyRule):
        ordered = sorted({d.value for d in rule.weekdays}, key=_DAY_INDEX.__getitem__)
        days = ", ".join(t(f"day.{_DAY_INDEX[d]}") for d in ordered)
        key = "rule.weekly" if rule.interval == 1 else "rule.every_weeks"
        text = t(key, days=days, n=rule.interval)
    elif isinstance(rule, MonthlyRule):
        days = ", ".join(t("rule.last_day") if d == -1 else str(d) for d in rule.monthdays)
        text = t("rule.monthly", days=days)
    else:
        assert isinstance(rule, RRuleRule)
        text = t("rule.custom")
    if rule.time is not None:
        text += " " + t("rule.at", time=rule.time.strftime("%H:%M"))
    if rule.rdates:
        text += ", " + t("rule.also", dates=", ".join(d.strftime("%d/%m/%Y") for d in rule.rdates))
    if rule.end_date is not None:
        text += ", " + t("rule.until", date=rule.end_date.strftime("%d/%m/%Y"))
    if rule.exdates:
        text += ", " + t("rule.skipped", n=len(rule.exdates))
    return text
