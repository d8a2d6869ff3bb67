"""UTC instants as integer milliseconds: exact arithmetic for placing items back to back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime) -> int:
    """An aware datetime as whole milliseconds since the epoch (sub-millisecond dropped)."""
    return (moment - EPOCH) // _MS


def from_ms(millis: int) -> datetime:
    """Whole milliseconds since the epoch as an aware UTC datetime."""
    return EPOCH + timedelta(milliseconds=millis)


def seconds_to_ms(seconds: float) -> int:
    """A duration in seconds as whole milliseconds, never below one."""
    return max(1, round(seconds * 1000))
