"""Creating announcements: validate targets, render speech, store rows in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audio.pipeline import RenderedMedia, SpeechRenderer
from controller.db.models import Announcement, AnnouncementTarget, Media, Node, Zone
from protocol.models import ItemKind, Priority


class TargetError(ValueError):
    """A target id names no zone and no node."""


@dataclass(frozen=True)
class Targets:
    zone_ids: list[str]
    node_ids: list[str]


def resolve_targets(session: Session, target_ids: list[str]) -> Targets:
    """Split ids into zones and nodes; any unknown id is an error naming it."""
    ids = list(dict.fromkeys(target_ids))
    zones = set(session.scalars(select(Zone.id).where(Zone.id.in_(ids))))
    nodes = set(session.scalars(select(Node.id).where(Node.id.in_(ids))))
    unknown = [i for i in ids if i not in zones and i not in nodes]
    if unknown:
        raise TargetError(f"unknown zone or node: {', '.join(unknown)}")
    return Targets([i for i in ids if i in zones], [i for i in ids if i in nodes])


def ensure_media(session: Session, rendered: RenderedMedia, source: str, now: datetime) -> Media:
    media = session.get(Media, rendered.sha256)
    if media is None:
        media = Media(
            sha256=rendered.sha256,
            ext=rendered.ext,
            size=rendered.size,
            duration_s=rendered.duration_s,
            source=source,
            engine=rendered.engine,
            created_at=now,
        )
        session.add(media)
    return media


def create_text_announcement(
    session: Session,
    renderer: SpeechRenderer,
    *,
    text: str,
    targets: Targets,
    start: datetime,
    now: datetime,
    title: str | None = None,
    priority: Priority = Priority.ANNOUNCEMENT,
    created_by: str | None = None,
) -> Announcement:
    """Render ``text`` to speech and add the announcement (caller commits)."""
    rendered = renderer.render_text(text)
    media = ensure_media(session, rendered, "tts", now)
    ann = Announcement(
        kind=ItemKind.TTS.value,
        title=title or text.strip().splitlines()[0][:120],
        text=text,
        media=media,
        duration_s=rendered.duration_s,
        priority=int(priority),
        start=start,
        created_at=now,
        created_by=created_by,
        targets=[AnnouncementTarget(zone_id=z) for z in targets.zone_ids]
        + [AnnouncementTarget(node_id=n) for n in targets.node_ids],
    )
    session.add(ann)
    return ann
