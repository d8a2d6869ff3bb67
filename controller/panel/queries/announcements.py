"""Announcements as the panel lists them: scoped, and laid out by day for the programme."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import Announcement
from controller.services.zones import ZoneTree


@dataclass(frozen=True)
class Airing:
    announcement: Announcement
    start: datetime
    end: datetime


def relevant_zone_ids(scope: Scope, tree: ZoneTree) -> set[str]:
    """Zones whose announcements reach the scope: its own zones and every ancestor of them."""
    zones: set[str] = set()
    for zone_id in scope.zone_ids:
        zones.update(tree.ancestors_and_self(zone_id))
    return zones


def visible(ann: Announcement, scope: Scope, zones: set[str]) -> bool:
    if scope.everything:
        return True
    return any(
        (t.zone_id is not None and t.zone_id in zones)
        or (t.node_id is not None and t.node_id in scope.node_ids)
        for t in ann.targets
    )


def airing_between(
    session: Session, scope: Scope, start: datetime, end: datetime, limit: int = 500
) -> list[Airing]:
    """One-off announcements that overlap [start, end), oldest first, within the scope.

    Recurring rules are placed by ``schedules`` when the calendar is wired; here a rule's
    first occurrence (its ``start``) stands for it.
    """
    tree = ZoneTree.load(session)
    zones = relevant_zone_ids(scope, tree)
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
    out: list[Airing] = []
    for ann in session.scalars(query):
        finish = ann.start + timedelta(seconds=ann.duration_s * max(ann.repeat, 1))
        if finish > start and visible(ann, scope, zones):
            out.append(Airing(ann, ann.start, finish))
    return out


def recent(session: Session, scope: Scope, limit: int = 50) -> list[Announcement]:
    tree = ZoneTree.load(session)
    zones = relevant_zone_ids(scope, tree)
    query = select(Announcement).order_by(Announcement.id.desc()).limit(limit * 4)
    return [a for a in session.scalars(query) if visible(a, scope, zones)][:limit]


def aired(ann: Announcement, now: datetime) -> bool:
    """A one-off whose last repeat has ended: nothing is left to cancel."""
    if ann.rule is not None:
        return ann.valid_until is not None and ann.valid_until <= now
    return ann.start + timedelta(seconds=ann.duration_s * max(1, ann.repeat)) <= now
