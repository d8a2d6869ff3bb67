"""Announcements as the panel lists them: scoped, and laid out by day for the programme."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.api.scoping import visible_announcements
from controller.auth.scope import Scope
from controller.db.models import Announcement


@dataclass(frozen=True)
class Airing:
    announcement: Announcement
    start: datetime
    end: datetime


def airing_between(
    session: Session, scope: Scope, start: datetime, end: datetime, limit: int = 500
) -> list[Airing]:
    """One-off announcements that overlap [start, end), oldest first, within the scope.

    Recurring rules are placed by ``schedules`` when the calendar is wired; here a rule's
    first occurrence (its ``start``) stands for it.
    """
    query = (
        select(Announcement)
        .where(
            Announcement.cancelled_at.is_(None),
            Announcement.start < end,
            Announcement.start >= start - timedelta(hours=6),
        )
        .order_by(Announcement.start, Announcement.id)
        .limit(limit)
    )
    seen = visible_announcements(scope)
    if seen is not None:
        query = query.where(seen)
    out: list[Airing] = []
    for ann in session.scalars(query):
        finish = ann.start + timedelta(seconds=ann.duration_s * max(ann.repeat, 1))
        if finish > start:
            out.append(Airing(ann, ann.start, finish))
    return out


def recent(session: Session, scope: Scope, limit: int = 50) -> list[Announcement]:
    """Newest first, those reaching the scope (the same filter as the JSON API's list)."""
    query = select(Announcement).order_by(Announcement.id.desc()).limit(limit)
    seen = visible_announcements(scope)
    if seen is not None:
        query = query.where(seen)
    return list(session.scalars(query))
