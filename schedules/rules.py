"""Recurrence rules as configuration models: once, daily, weekly, monthly, or a raw RRULE.

Dates and the time of day are Vietnam wall-clock (Asia/Ho_Chi_Minh); the expansion in
:mod:`schedules.recurrence` turns them into UTC instants. A rule without ``time`` only names
days: that is how an announcement placed into a programme slot says on which days it runs.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schedules.rrule_text import parse_rrule


class ConfigModel(BaseModel):
    """Base of schedule models: typos and unknown fields fail loudly, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Weekday(StrEnum):
    """RFC 5545 weekday codes, Monday first (Vietnamese "thứ Hai" is ``MO``)."""

    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"


class _RuleBase(ConfigModel):
    start_date: dt.date
    end_date: dt.date | None = Field(default=None, description="last local date, inclusive")
    exdates: tuple[dt.date, ...] = Field(default=(), description="local dates to skip")
    rdates: tuple[dt.date, ...] = Field(
        default=(),
        max_length=366,
        description="extra local dates it also plays on at its time (RFC 5545 RDATE), e.g. "
        "a first day that is not one of its weekdays: 'tomorrow 07:00, then every Monday'",
    )
    time: dt.time | None = Field(default=None, description="local time of day (HH:MM)")

    @model_validator(mode="after")
    def _coherent(self) -> _RuleBase:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        if self.time is not None and self.time.tzinfo is not None:
            raise ValueError("time is Vietnam local time: write it without an offset")
        early = [d for d in self.rdates if d < self.start_date]
        if early:
            raise ValueError(f"rdates {early[0]} is before start_date {self.start_date}")
        return self

    def excludes(self, day: dt.date) -> bool:
        """True when ``day`` is after the end date or an exception date (extra dates too)."""
        return (self.end_date is not None and day > self.end_date) or day in self.exdates


class OnceRule(_RuleBase):
    """A single occurrence on ``start_date``."""

    freq: Literal["once"]

    @model_validator(mode="after")
    def _single(self) -> OnceRule:
        if self.end_date is not None or self.exdates or self.rdates:
            raise ValueError("a once rule takes neither end_date, exdates nor rdates")
        return self


class DailyRule(_RuleBase):
    """Every ``interval`` days from ``start_date``."""

    freq: Literal["daily"]
    interval: int = Field(default=1, ge=1, le=366)


class WeeklyRule(_RuleBase):
    """On the chosen weekdays, every ``interval`` weeks (weeks start on Monday)."""

    freq: Literal["weekly"]
    weekdays: Annotated[tuple[Weekday, ...], Field(min_length=1, max_length=7)]
    interval: int = Field(default=1, ge=1, le=53)


MonthDay = Annotated[int, Field(ge=-31, le=31)]


class MonthlyRule(_RuleBase):
    """On the chosen days of the month (``-1`` = last day), every ``interval`` months.

    As in RFC 5545, a day that a month lacks (31 in April) is skipped, not moved.
    """

    freq: Literal["monthly"]
    monthdays: Annotated[tuple[MonthDay, ...], Field(min_length=1, max_length=31)]
    interval: int = Field(default=1, ge=1, le=12)

    @model_validator(mode="after")
    def _no_zero(self) -> MonthlyRule:
        if 0 in self.monthdays:
            raise ValueError("monthdays count from 1 (or from -1 for the last day), not 0")
        return self


class RRuleRule(_RuleBase):
    """A full RFC 5545 RRULE (e.g. ``FREQ=MONTHLY;BYDAY=1MO``) starting at ``start_date``."""

    freq: Literal["rrule"]
    rrule: Annotated[str, Field(max_length=500)]

    @model_validator(mode="after")
    def _parses(self) -> RRuleRule:
        parse_rrule(self.rrule, dt.datetime.combine(self.start_date, self.time or dt.time()))
        return self


Rule = Annotated[
    OnceRule | DailyRule | WeeklyRule | MonthlyRule | RRuleRule, Field(discriminator="freq")
]
"""Any rule; the ``freq`` field says which kind."""
