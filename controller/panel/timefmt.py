"""Times are stored in UTC and shown in Asia/Ho_Chi_Minh (what a commune's clock says)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def to_local(value: datetime | None) -> datetime | None:
    return value.astimezone(LOCAL) if value is not None else None


def fmt_datetime(value: datetime | None) -> str:
    local = to_local(value)
    return local.strftime("%d/%m/%Y %H:%M") if local else "—"


def fmt_time(value: datetime | None) -> str:
    local = to_local(value)
    return local.strftime("%H:%M:%S") if local else "—"


def fmt_iso_local(value: datetime | None) -> str:
    local = to_local(value)
    return local.isoformat(timespec="seconds") if local else ""


def local_midnight_utc(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in Vietnam."""
    return datetime.combine(day, time.min, tzinfo=LOCAL).astimezone(UTC)


def parse_local(value: str) -> datetime:
    """A ``datetime-local`` form value (Vietnam wall time) as aware UTC; ValueError if bad."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL)
    return parsed.astimezone(UTC)


def today_local(now: datetime) -> date:
    return now.astimezone(LOCAL).date()
