"""Creating an announcement from the compose form: speech or an uploaded recording.

Scope is checked before anything is rendered; the announcement itself is made by
``services.announcing.create_announcement``, the JSON API's path (one transaction with the
audit entry, the reached nodes published after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import Announcement
from controller.services.announcements import Targets, announcement_targets, resolve_targets
from controller.services.announcing import (
    AnnouncementInputError,
    AnnouncementRequest,
    AuditWriter,
    create_announcement,
)
from controller.services.container import Controller
from controller.services.quiet_guard import QuietHoursConflict
from controller.services.visual import ImageRejected, VisualIn
from controller.services.zones import ZoneTree, nodes_reached
from protocol.models import Priority


class ComposeError(ValueError):
    """The form cannot become an announcement; ``key`` is the i18n message to show and
    ``reason`` (when its text has a ``{reason}``) another catalogue key."""

    def __init__(self, key: str, reason: str = "") -> None:
        super().__init__(reason or key)
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class Draft:
    text: str
    title: str
    target_ids: list[str]
    start: datetime | None
    """None: "now" (queued behind what is already planned, as in the JSON API)."""
    priority: Priority
    engine: str | None = None
    media_sha256: str | None = None
    rule: dict[str, Any] | None = None
    """A validated recurrence (``schedules`` rule JSON); ``start`` is then its first play."""
    internal: bool = False
    """Kept off the citizens' replay page and feed."""
    visual: VisualIn | None = None
    """What e-boards show while it plays (None: sound only)."""


@dataclass(frozen=True)
class Created:
    id: int
    start: datetime
    node_ids: list[str]


def check_targets(session: Session, scope: Scope, target_ids: list[str]) -> Targets:
    if not target_ids:
        raise ComposeError("ann.error_targets")
    try:
        targets = resolve_targets(session, target_ids)
    except ValueError as exc:
        raise ComposeError("ann.error_targets") from exc
    if not scope.allows_targets(targets.zone_ids, targets.node_ids):
        raise ComposeError("ann.error_scope")
    return targets


def create(
    ctl: Controller, scope: Scope, draft: Draft, username: str, audit: AuditWriter
) -> Created:
    """Check the targets against the scope, then the one service path (the JSON API's)."""
    with ctl.sessions() as session:
        targets = check_targets(session, scope, draft.target_ids)
    req = AnnouncementRequest(
        targets=targets,
        text=draft.text,
        media_sha256=draft.media_sha256,
        start=draft.start,
        title=draft.title,
        priority=draft.priority,
        rule=draft.rule,
        internal=draft.internal,
        engine=draft.engine,
        visual=draft.visual,
    )
    try:
        done = create_announcement(ctl, req, created_by=username, audit=audit)
    except AnnouncementInputError as exc:
        key, reason = _INPUT_ERRORS[exc.field]
        raise ComposeError(key, reason) from None
    except ImageRejected as exc:
        raise ComposeError("ann.error_board") from exc
    except QuietHoursConflict as exc:
        raise ComposeError("ann.error_quiet", exc.when) from None
    return Created(done.announcement.id, done.announcement.start, done.nodes)


_INPUT_ERRORS = {
    "text": ("ann.error_text", ""),
    "media": ("ann.error_audio", "upload.unknown_media"),
    "start": ("ann.error_time", ""),
}
"""The service's refused field -> (message key, reason key)."""


def conflicts(
    session: Session, scope: Scope, target_ids: list[str], start: datetime, duration_s: float
) -> list[Announcement]:
    """Live announcements overlapping [start, start + duration) on any node the targets reach."""
    from sqlalchemy import select

    targets = check_targets(session, scope, target_ids)
    tree = ZoneTree.load(session)
    reached = nodes_reached(session, tree, targets.zone_ids, targets.node_ids)
    end = start + timedelta(seconds=max(duration_s, 1))
    query = select(Announcement).where(
        Announcement.cancelled_at.is_(None),
        Announcement.start < end,
        Announcement.start >= start - timedelta(hours=6),
    )
    found = []
    for ann in session.scalars(query):
        if ann.start + timedelta(seconds=ann.duration_s * max(ann.repeat, 1)) <= start:
            continue
        hits = nodes_reached(session, tree, *announcement_targets(ann))
        if hits & reached:
            found.append(ann)
    return found
