"""The one path that creates an operator's announcement, for the JSON API and the panel.

Both used to build the row themselves and drifted (queueing a "now" item, the title, the
audit text, recordings only in the panel, languages only in the API). Here a request becomes
speech or a stored recording, the row with its approval state, e-board content and other
languages, a "now" start queued behind what is already planned, the quiet-hours check and
the audit entry, all in one transaction; the reached nodes are published after the commit.
Callers resolve and scope-check the targets first and turn the typed errors into their own
words (HTTP status or panel message).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from controller.db.models import Announcement, Media
from controller.services import multilingual
from controller.services.announcements import (
    Targets,
    announcement_row,
    create_text_announcement,
    next_free_start,
)
from controller.services.approvals import start_approval
from controller.services.container import Controller
from controller.services.playlist_builder import build_playlists
from controller.services.quiet_guard import refuse_in_quiet_hours
from controller.services.schedule_store import announcement_entry
from controller.services.visual import VisualIn, resolve_visual
from controller.services.zones import ZoneTree, nodes_reached
from protocol.models import ItemKind, Priority

START_GRACE = timedelta(minutes=1)
"""An explicit start this far in the past is still taken (clocks and typing are not exact)."""

AuditWriter = Callable[[Session, str, str, str], None]
"""``(session, action, target, detail)``: the caller's audit entry (who, from where, token)."""


class AnnouncementInputError(ValueError):
    """The request cannot become an announcement; ``field`` names what is wrong
    (``text``: empty, ``media``: no such recording, ``start``: in the past)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


@dataclass(frozen=True)
class AnnouncementRequest:
    """What an operator asks for; ``targets`` are resolved and inside the caller's scope."""

    targets: Targets
    text: str = ""
    media_sha256: str | None = None
    """An uploaded recording to air instead of speech (``text`` is then only shown)."""
    start: datetime | None = None
    """None: "now", ``immediate_lead_s`` ahead and queued behind equal or higher priority."""
    title: str | None = None
    priority: Priority = Priority.ANNOUNCEMENT
    rule: dict[str, Any] | None = None
    """A validated recurrence (``schedules`` rule JSON); ``start`` is then its first play."""
    repeat: int = 1
    volume: int | None = None
    valid_until: datetime | None = None
    internal: bool = False
    """Kept off the citizens' replay page and feed."""
    draft: bool = False
    """In a commune that needs approval: keep it as a draft (else it goes to the approvers)."""
    engine: str | None = None
    visual: VisualIn | None = None
    """What e-boards show while it plays (None: sound only)."""
    variants: tuple[tuple[str, str, str | None], ...] = ()
    """(language, recording sha256, text) aired after Vietnamese where a zone asks."""


@dataclass(frozen=True)
class Created:
    announcement: Announcement
    nodes: list[str]


def create_announcement(
    ctl: Controller, req: AnnouncementRequest, *, created_by: str, audit: AuditWriter
) -> Created:
    """Store the announcement and its audit entry in one transaction, then publish.

    Raises ``AnnouncementInputError``, ``visual.ImageRejected``,
    ``multilingual.VariantError``, ``QuietHoursConflict`` and the audio errors; nothing is
    committed then.
    """
    now = ctl.clock.now()
    if req.start is not None and req.start < now.replace(microsecond=0) - START_GRACE:
        raise AnnouncementInputError("start", "start is in the past")
    with ctl.sessions() as session:
        nodes = sorted(
            nodes_reached(
                session, ZoneTree.load(session), req.targets.zone_ids, req.targets.node_ids
            )
        )
        queued = req.start is None and req.rule is None
        planned = (
            build_playlists(session, now, *ctl.publisher.window(now), nodes) if queued else None
        )
        start = req.start or now + timedelta(seconds=ctl.settings.immediate_lead_s)
        ann = _row(session, ctl, req, start, now, created_by)
        start_approval(
            session, ann, req.targets.zone_ids, req.targets.node_ids, now, draft=req.draft
        )
        if req.visual is not None:
            ann.visual = resolve_visual(session, req.visual, req.text)
        multilingual.attach_variants(session, ctl.renderer, ann, list(req.variants), nodes, now)
        if planned is not None:
            ann.start = next_free_start(
                (r.items for r in planned.values()),
                start,
                ann.duration_s * ann.repeat,
                req.priority,
            )
        session.flush()
        refuse_in_quiet_hours(session, announcement_entry(ann), now)  # nothing committed
        audit(session, "announcement.create", f"announcement:{ann.id}", audit_detail(ann))
        session.commit()
    ctl.publisher.refresh(nodes)
    return Created(ann, nodes)


def _row(
    session: Session,
    ctl: Controller,
    req: AnnouncementRequest,
    start: datetime,
    now: datetime,
    created_by: str,
) -> Announcement:
    fields: dict[str, Any] = {
        "targets": req.targets,
        "start": start,
        "now": now,
        "title": req.title,
        "priority": req.priority,
        "created_by": created_by,
        "rule": req.rule,
        "repeat": req.repeat,
        "volume": req.volume,
        "valid_until": req.valid_until,
        "internal": req.internal,
    }
    if req.media_sha256:
        media = session.get(Media, req.media_sha256)
        if media is None:
            raise AnnouncementInputError("media", "no such recording (upload it first)")
        ann = announcement_row(
            kind=ItemKind.AUDIO, text=req.text, media=media, duration_s=media.duration_s, **fields
        )
        session.add(ann)
        return ann
    if not req.text.strip():
        raise AnnouncementInputError("text", "text is empty")
    return create_text_announcement(
        session, ctl.renderer, text=req.text, engine=req.engine, **fields
    )


def audit_detail(ann: Announcement) -> str:
    """The audit text: targets as stored, the actual start (after queueing), the rule as
    JSON, the first 200 characters of the text."""
    targets = [t.zone_id or t.node_id or "" for t in ann.targets]
    rule = f" rule={json.dumps(ann.rule, ensure_ascii=False)}" if ann.rule else ""
    return (
        f"targets={','.join(targets)} start={ann.start.isoformat()}{rule}"
        f" text={(ann.text or '')[:200]}"
    )
