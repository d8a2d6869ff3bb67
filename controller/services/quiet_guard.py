"""Refusing, at scheduling time, a non-emergency entry that would play in quiet hours.

Used by the schedules and announcements API and the panel's compose form before anything is
committed; the compile step filters such items again in case a zone's quiet hours changed
after the entry was saved.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from controller.services.horn import QuietHoursConflict, check_quiet_hours
from controller.services.playlist_builder import fleet_zones
from controller.services.schedule_store import load_calendar
from schedules import ScheduleEntry

__all__ = ["QuietHoursConflict", "refuse_in_quiet_hours"]


def refuse_in_quiet_hours(session: Session, entry: ScheduleEntry, now: datetime) -> None:
    """Raise :class:`QuietHoursConflict` if ``entry`` falls in a reached zone's quiet hours."""
    slots = load_calendar(session, now).slots if entry.slot is not None else ()
    check_quiet_hours(session, entry, fleet_zones(session), now, slots)
