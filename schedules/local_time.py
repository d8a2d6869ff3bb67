"""Wall-clock time in Vietnam: rules are written in local time, everything else is UTC.

Asia/Ho_Chi_Minh has been a fixed UTC+07:00 since 1975 (no DST), so local wall-clock
datetimes convert to UTC without ambiguity; we still go through ``zoneinfo`` so that the
rare historic date stays correct.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def to_local_naive(moment: datetime) -> datetime:
    """An aware datetime as naive Vietnam wall-clock time (what rules are written in)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: time must carry its offset")
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None)


def local_naive_to_utc(wall: datetime) -> datetime:
    """Naive Vietnam wall-clock time as an aware UTC datetime."""
    return wall.replace(tzinfo=LOCAL_TZ).astimezone(UTC)
