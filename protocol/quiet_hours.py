"""Quiet hours: daily local-time windows (Asia/Ho_Chi_Minh) when nothing but emergencies plays.

Shared by the controller (refusing and filtering at scheduling and compile time) and the agent
(refusing to start a non-emergency item if its playlist says it is quiet now), so both read
``"21:30-05:00"`` the same way. A window whose end is not after its start crosses midnight.
Vietnam has no DST, so a window is always exactly the same span of UTC every day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY_MIN = 24 * 60
MAX_WINDOWS = 8
_WINDOW_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class QuietHoursError(ValueError):
    """The text is not a list of ``HH:MM-HH:MM`` windows (the reason is the message)."""


@dataclass(frozen=True, order=True)
class QuietWindow:
    """From ``start_min`` to ``end_min`` minutes after local midnight; crosses midnight when
    ``end_min <= start_min`` (``22:00-22:00`` is the whole day)."""

    start_min: int
    end_min: int

    @classmethod
    def parse(cls, text: str) -> QuietWindow:
        match = _WINDOW_RE.match(text.strip())
        if match is None:
            raise QuietHoursError(
                f"quiet hours {text[:40]!r}: expected HH:MM-HH:MM, e.g. 21:30-05:00"
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return cls(h1 * 60 + m1, h2 * 60 + m2)

    def __str__(self) -> str:
        return f"{_hhmm(self.start_min)}-{_hhmm(self.end_min)}"

    @property
    def length_min(self) -> int:
        return (self.end_min - self.start_min) % DAY_MIN or DAY_MIN

    def contains(self, moment: datetime) -> bool:
        """True if ``moment`` (aware) falls inside the window on its local day."""
        local = moment.astimezone(LOCAL_TZ)
        minute = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 6e7
        return (minute - self.start_min) % DAY_MIN < self.length_min

    def spans(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The window's occurrences (aware, local tz) overlapping ``[start, end)``."""
        if end <= start:
            return []
        day = start.astimezone(LOCAL_TZ).date() - timedelta(days=1)
        last = end.astimezone(LOCAL_TZ).date()
        found: list[tuple[datetime, datetime]] = []
        while day <= last:
            midnight = datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)
            lo = midnight + timedelta(minutes=self.start_min)
            hi = lo + timedelta(minutes=self.length_min)
            if lo < end and hi > start:
                found.append((lo, hi))
            day += timedelta(days=1)
        return found

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """True if any part of ``[start, end)`` is inside the window."""
        return bool(self.spans(start, end)) or (end <= start and self.contains(start))


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_quiet_hours(text: str | None) -> tuple[QuietWindow, ...]:
    """``"21:30-05:00, 12:00-13:00"`` -> windows; empty or None -> none."""
    if text is None or not text.strip():
        return ()
    if len(text) > 200:
        raise QuietHoursError("quiet hours: at most 200 characters")
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) > MAX_WINDOWS:
        raise QuietHoursError(f"quiet hours: at most {MAX_WINDOWS} windows")
    return tuple(sorted(set(QuietWindow.parse(p) for p in parts)))


def format_quiet_hours(windows: tuple[QuietWindow, ...] | list[QuietWindow]) -> str:
    return ", ".join(str(w) for w in windows)


def quiet_at(
    windows: tuple[QuietWindow, ...] | list[QuietWindow], moment: datetime
) -> QuietWindow | None:
    """The first window containing ``moment``, or None."""
    return next((w for w in windows if w.contains(moment)), None)
