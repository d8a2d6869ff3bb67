"""Announcements as the panel lists them: scoped, and laid out by day for the programme."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.api.scoping import visible_announcements
from controller.auth.scope import Scope
from controller.db.models import Announcement, Node, Zone
from controller.panel import rule_words
from schedules import Rule, ScheduleError, occurrences


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


def aired(ann: Announcement, now: datetime) -> bool:
    """A one-off whose last repeat has ended: nothing is left to cancel."""
    if ann.rule is not None:
        return ann.valid_until is not None and ann.valid_until <= now
    return ann.start + timedelta(seconds=ann.duration_s * max(1, ann.repeat)) <= now


@dataclass(frozen=True)
class Listed:
    """One row of the announcement list."""

    announcement: Announcement
    next_air: datetime | None
    """When it plays next (or is playing); None when nothing is left to play."""
    rule: Rule | None
    targets: list[str]
    """Zone and node names (their ids only when a name is missing)."""


def next_air(ann: Announcement, rule: Rule | None, now: datetime) -> datetime | None:
    if ann.cancelled_at is not None:
        return None
    length = timedelta(seconds=ann.duration_s * max(1, ann.repeat))
    if ann.rule is None:
        return ann.start if ann.start + length > now else None
    if rule is None or (ann.valid_until is not None and ann.valid_until <= now):
        return None
    try:
        found = occurrences(rule, now - length, now + timedelta(days=400))
    except ScheduleError:
        return None
    return found[0] if found else None


def listing(session: Session, scope: Scope, now: datetime, limit: int = 50) -> list[Listed]:
    """The recent announcements, what is still to air first, by its next air time; then
    what has aired or was cancelled, newest first."""
    items = recent(session, scope, limit)
    names = {z.id: z.name for z in session.scalars(select(Zone))}
    wanted = {t.node_id for a in items for t in a.targets if t.node_id}
    if wanted:
        names |= {n.id: n.name for n in session.scalars(select(Node).where(Node.id.in_(wanted)))}
    rows = []
    for ann in items:
        rule = rule_words.parse(ann.rule)
        targets = [
            names.get(t.zone_id or t.node_id or "", t.zone_id or t.node_id or "")
            for t in ann.targets
        ]
        rows.append(Listed(ann, next_air(ann, rule, now), rule, targets))
    upcoming = sorted(
        (r for r in rows if r.next_air), key=lambda r: (r.next_air, r.announcement.id)
    )
    rest = sorted(
        (r for r in rows if not r.next_air), key=lambda r: r.announcement.start, reverse=True
    )
    return upcoming + rest
