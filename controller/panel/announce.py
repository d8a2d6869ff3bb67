"""Creating an announcement from the compose form: speech or an uploaded recording.

Scope is checked before anything is rendered; rows go in one transaction; the reached
nodes' playlists are refreshed after the commit (the same order as the JSON API).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from audio.media import RenderedMedia
from controller.auth.scope import Scope
from controller.db.models import Announcement, AnnouncementTarget, Media
from controller.services.announcements import Targets, ensure_media, resolve_targets
from controller.services.approvals import start_approval
from controller.services.container import Controller
from controller.services.pronunciation import entries_for_targets
from controller.services.quiet_guard import QuietHoursConflict, refuse_in_quiet_hours
from controller.services.schedule_store import announcement_entry
from controller.services.visual import ImageRejected, VisualIn, resolve_visual
from controller.services.zones import ZoneTree, nodes_reached
from protocol.models import ItemKind, Priority


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
    start: datetime
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


def _announcement(
    draft: Draft,
    media: Media,
    duration_s: float,
    kind: ItemKind,
    targets: Targets,
    now: datetime,
    username: str,
) -> Announcement:
    first_line = (draft.text.strip().splitlines() or [""])[0][:120]
    return Announcement(
        kind=kind.value,
        title=draft.title.strip()[:500] or first_line or f"{media.sha256[:8]}.{media.ext}",
        text=draft.text or None,
        media=media,
        duration_s=duration_s,
        priority=int(draft.priority),
        start=draft.start,
        rule=draft.rule,
        internal=draft.internal,
        created_at=now,
        created_by=username,
        targets=[AnnouncementTarget(zone_id=z) for z in targets.zone_ids]
        + [AnnouncementTarget(node_id=n) for n in targets.node_ids],
    )


def create(ctl: Controller, scope: Scope, draft: Draft, username: str) -> Created:
    """Render (or reuse) the audio, store the announcement, publish the reached nodes."""
    now = ctl.clock.now()
    if draft.start < now - timedelta(minutes=1):
        raise ComposeError("ann.error_time")
    with ctl.sessions() as session:
        targets = check_targets(session, scope, draft.target_ids)
        if draft.media_sha256:
            media = session.get(Media, draft.media_sha256)
            if media is None:
                raise ComposeError("ann.error_audio", "upload.unknown_media")
            ann = _announcement(
                draft, media, media.duration_s, ItemKind.AUDIO, targets, now, username
            )
        else:
            if not draft.text.strip():
                raise ComposeError("ann.error_text")
            entries = entries_for_targets(session, targets.zone_ids, targets.node_ids)
            rendered: RenderedMedia = ctl.renderer.render_text(
                draft.text, engine=draft.engine, entries=entries
            )
            media = ensure_media(session, rendered, "tts", now)
            ann = _announcement(
                draft, media, rendered.duration_s, ItemKind.TTS, targets, now, username
            )
        if draft.visual is not None:
            try:
                ann.visual = resolve_visual(session, draft.visual, draft.text)
            except ImageRejected as exc:
                raise ComposeError("ann.error_board") from exc
        start_approval(session, ann, targets.zone_ids, targets.node_ids, now)
        session.add(ann)
        session.flush()
        try:  # nothing is committed when it falls in quiet hours
            refuse_in_quiet_hours(session, announcement_entry(ann), now)
        except QuietHoursConflict as exc:
            raise ComposeError("ann.error_quiet", exc.when) from None
        session.commit()
        nodes = sorted(
            nodes_reached(session, ZoneTree.load(session), targets.zone_ids, targets.node_ids)
        )
        created = Created(ann.id, ann.start, nodes)
    ctl.publisher.refresh(nodes)
    return created


def store_upload(ctl: Controller, rendered: RenderedMedia) -> None:
    with ctl.sessions.begin() as session:
        ensure_media(session, rendered, "upload", ctl.clock.now())


_CHUNK = 1024 * 1024


def import_recording(ctl: Controller, source: BinaryIO, name: str) -> RenderedMedia:
    """An uploaded recording spooled to a private temp file (at most one chunk past the size
    limit, which the import then refuses), checked, loudness-normalised and stored with its
    media row. Blocking: call it from a worker thread. Raises AudioRejected/AudioToolError."""
    limit = ctl.renderer.uploads.limits.max_bytes
    with tempfile.TemporaryDirectory(prefix="loa-panel-upload-") as tmp:
        spooled = Path(tmp) / "upload"
        with spooled.open("wb") as out:
            written = 0
            while chunk := source.read(_CHUNK):
                out.write(chunk)
                written += len(chunk)
                if written > limit:
                    break
        rendered = ctl.renderer.import_upload(spooled, name)
    store_upload(ctl, rendered)
    return rendered


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
        hits = nodes_reached(
            session,
            tree,
            [t.zone_id for t in ann.targets if t.zone_id],
            [t.node_id for t in ann.targets if t.node_id],
        )
        if hits & reached:
            found.append(ann)
    return found
