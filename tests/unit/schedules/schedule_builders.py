"""Small builders for schedule tests: real models, only the fields a test cares about."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from protocol.models import MediaRef
from schedules import ProgrammeSlot, ScheduleEntry

VN = "+07:00"


def utc(text: str) -> datetime:
    """``"2025-03-03 05:30"`` read as Vietnam local time, returned in UTC."""
    return datetime.fromisoformat(text.replace(" ", "T") + VN).astimezone(UTC)


def media(seconds: float, seed: str = "x") -> MediaRef:
    digest = hashlib.sha256(f"{seed}:{seconds}".encode()).hexdigest()
    return MediaRef(sha256=digest, size=1000, duration_s=seconds)


def daily(time: str | None, start: str = "2025-01-01", **extra: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"freq": "daily", "start_date": start, **extra}
    if time is not None:
        rule["time"] = time
    return rule


def once(day: str, time: str | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"freq": "once", "start_date": day}
    if time is not None:
        rule["time"] = time
    return rule


def audio(entry_id: str, seconds: float, **fields: Any) -> ScheduleEntry:
    data: dict[str, Any] = {
        "id": entry_id,
        "kind": "audio",
        "title": f"Thông báo {entry_id}",
        "media": media(seconds, entry_id),
        "targets": {"zones": ["xa"]},
    }
    data.update(fields)
    return ScheduleEntry.model_validate(data)


def stream(entry_id: str, seconds: float, **fields: Any) -> ScheduleEntry:
    data: dict[str, Any] = {
        "id": entry_id,
        "kind": "stream",
        "title": "Tiếp sóng VOV1",
        "stream_url": "https://relay.example.vn/vov1.m3u8",
        "duration_s": seconds,
        "priority": 1,
        "targets": {"zones": ["xa"]},
    }
    data.update(fields)
    return ScheduleEntry.model_validate(data)


def slot(slot_id: str, time: str, seconds: float, gap_s: float = 0) -> ProgrammeSlot:
    return ProgrammeSlot.model_validate(
        {
            "id": slot_id,
            "title": f"Chương trình {slot_id}",
            "rule": daily(time),
            "duration_s": seconds,
            "gap_s": gap_s,
        }
    )
