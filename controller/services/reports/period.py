"""A report period: one calendar month or quarter in Vietnam's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")


class PeriodError(ValueError):
    """Not ``YYYY-MM`` or ``YYYY-Qn``."""


@dataclass(frozen=True)
class Period:
    """``months`` calendar months from ``first`` (the 1st of a month): 1 or 3."""

    first: date
    months: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-11`` (a month) or ``2026-Q4`` (a quarter)."""
        if m := _MONTH.match(text.strip()):
            year, month = int(m.group(1)), int(m.group(2))
            if not 1 <= month <= 12 or year < 2000:
                raise PeriodError(f"no such month {text!r}")
            return cls(date(year, month, 1), 1)
        if m := _QUARTER.match(text.strip()):
            year, quarter = int(m.group(1)), int(m.group(2))
            if year < 2000:
                raise PeriodError(f"no such quarter {text!r}")
            return cls(date(year, 3 * quarter - 2, 1), 3)
        raise PeriodError(f"period {text!r} is neither YYYY-MM nor YYYY-Qn")

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls(day.replace(day=1), 1)

    @property
    def is_quarter(self) -> bool:
        return self.months == 3

    @property
    def quarter(self) -> int:
        """The quarter (1-4) the period starts in."""
        return (self.first.month - 1) // 3 + 1

    @property
    def key(self) -> str:
        """The form ``parse`` reads: ``2026-11`` or ``2026-Q4``."""
        if self.is_quarter:
            return f"{self.first.year}-Q{self.quarter}"
        return f"{self.first:%Y-%m}"

    @property
    def label_vi(self) -> str:
        """How a Vietnamese report names it: ``tháng 11/2026`` or ``quý 4/2026``."""
        if self.is_quarter:
            return f"quý {self.quarter}/{self.first.year}"
        return f"tháng {self.first:%m/%Y}"

    @property
    def following(self) -> date:
        """The first day after the period."""
        index = self.first.month - 1 + self.months
        return date(self.first.year + index // 12, index % 12 + 1, 1)

    @property
    def last(self) -> date:
        """The period's last day."""
        return self.following - timedelta(days=1)

    @property
    def start(self) -> datetime:
        return _local_midnight_utc(self.first)

    @property
    def end(self) -> datetime:
        return _local_midnight_utc(self.following)


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL).astimezone(UTC)
