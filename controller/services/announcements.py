"""Creating announcements: validate targets, render speech, store rows in one transaction.

An announcement is one-off (``rule`` None: it plays at ``start``) or recurring (``rule`` is
a timed :mod:`schedules` rule; ``start`` then holds its first occurrence, for listings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audio.pipeline import RenderedMedia, SpeechRenderer
from controller.db.models import Announcement, AnnouncementTarget, Media, Node, Zone
from controller.services.pronunciation import entries_for_targets
from protocol.models import ItemKind, PlaylistItem, Priority


class TargetError(ValueError):
    """A target id names no zone and no node."""


@dataclass(frozen=True)
class Targets:
    zone_ids: list[str]
    node_ids: list[str]


ZONE_PREFIX = "zone:"
NODE_PREFIX = "node:"


def resolve_targets(session: Session, target_ids: list[str]) -> Targets:
    """Split ids into zones and nodes; any unknown or ambiguous id is an error naming it.

    ``zone:ID`` and ``node:ID`` name the kind explicitly. A bare id is looked up as both;
    when it names a zone *and* a node it is refused, so the scope check and the stored
    targets can never disagree about what an id means.
    """
    wanted_zones: list[str] = []
    wanted_nodes: list[str] = []
    bare: list[str] = []
    for raw in dict.fromkeys(target_ids):
        if raw.startswith(ZONE_PREFIX):
            wanted_zones.append(raw.removeprefix(ZONE_PREFIX))
        elif raw.startswith(NODE_PREFIX):
            wanted_nodes.append(raw.removeprefix(NODE_PREFIX))
        else:
            bare.append(raw)
    names = [*wanted_zones, *wanted_nodes, *bare]
    zones = set(session.scalars(select(Zone.id).where(Zone.id.in_(names))))
    nodes = set(session.scalars(select(Node.id).where(Node.id.in_(names))))
    unknown = [f"zone:{i}" for i in wanted_zones if i not in zones]
    unknown += [f"node:{i}" for i in wanted_nodes if i not in nodes]
    unknown += [i for i in bare if i not in zones and i not in nodes]
    if unknown:
        raise TargetError(f"unknown zone or node: {', '.join(unknown)}")
    both = [i for i in bare if i in zones and i in nodes]
    if both:
        raise TargetError(
            f"ambiguous target (a zone and a node share the id): {', '.join(both)}; "
            "write zone:ID or node:ID"
        )
    zone_ids = [*wanted_zones, *(i for i in bare if i in zones)]
    node_ids = [*wanted_nodes, *(i for i in bare if i in nodes)]
    return Targets(list(dict.fromkeys(zone_ids)), list(dict.fromkeys(node_ids)))


def announcement_targets(ann: Announcement) -> tuple[list[str], list[str]]:
    """(zone ids, node ids) an announcement targets."""
    return (
        [t.zone_id for t in ann.targets if t.zone_id],
        [t.node_id for t in ann.targets if t.node_id],
    )


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


def announcement_row(
    *,
    kind: ItemKind,
    text: str,
    media: Media,
    duration_s: float,
    targets: Targets,
    start: datetime,
    now: datetime,
    title: str | None = None,
    priority: Priority = Priority.ANNOUNCEMENT,
    created_by: str | None = None,
    rule: dict[str, Any] | None = None,
    repeat: int = 1,
    volume: int | None = None,
    valid_until: datetime | None = None,
    internal: bool = False,
) -> Announcement:
    """The row for speech or a recording (not added to a session).

    The title is the given one without surrounding blanks, else the text's first line, else
    the recording's file name.
    """
    first_line = (text.strip().splitlines() or [""])[0][:120]
    return Announcement(
        kind=kind.value,
        title=(title or "").strip()[:500] or first_line or f"{media.sha256[:8]}.{media.ext}",
        text=text or None,
        media=media,
        duration_s=duration_s,
        priority=int(priority),
        repeat=repeat,
        volume=volume,
        rule=rule,
        valid_until=valid_until,
        start=start,
        created_at=now,
        created_by=created_by,
        internal=internal,
        variants=[],
        mixes=[],
        targets=[AnnouncementTarget(zone_id=z) for z in targets.zone_ids]
        + [AnnouncementTarget(node_id=n) for n in targets.node_ids],
    )


def create_text_announcement(
    session: Session,
    renderer: SpeechRenderer,
    *,
    text: str,
    targets: Targets,
    start: datetime,
    now: datetime,
    engine: str | None = None,
    **fields: Any,
) -> Announcement:
    """Render ``text`` to speech (with the targets' pronunciations) and add the row (caller
    commits); ``fields`` are :func:`announcement_row`'s optional ones.

    Operators' announcements go through ``services.announcing.create_announcement``, which
    calls this; upstream warnings call it directly (they are never held for approval).
    """
    entries = entries_for_targets(session, targets.zone_ids, targets.node_ids)
    rendered = renderer.render_text(text, engine=engine, entries=entries)
    media = ensure_media(session, rendered, "tts", now)
    ann = announcement_row(
        kind=ItemKind.TTS,
        text=text,
        media=media,
        duration_s=rendered.duration_s,
        targets=targets,
        start=start,
        now=now,
        **fields,
    )
    session.add(ann)
    return ann


def next_free_start(
    playlists: Iterable[Iterable[PlaylistItem]],
    earliest: datetime,
    length_s: float,
    priority: Priority,
) -> datetime:
    """First start >= ``earliest`` where ``length_s`` fits between every item of equal or
    higher priority on all the given nodes' playlists.

    A "now" announcement queues behind one already playing (as operators expect) instead of
    being dropped as the loser of an overlap.
    """
    busy = sorted(
        (item.start, item.start + timedelta(seconds=item.duration_s))
        for items in playlists
        for item in items
        if item.priority >= priority
    )
    start = earliest
    moved = True
    while moved:
        moved = False
        end = start + timedelta(seconds=length_s)
        for busy_start, busy_end in busy:
            if busy_start < end and start < busy_end:
                start, moved = busy_end, True
                break
    return start
