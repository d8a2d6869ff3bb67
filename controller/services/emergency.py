"""Emergency broadcasts: issue to zones, cancel, and read each node's status.

An emergency is one signed EMERGENCY command per target zone (one publish each; the
broker fans out), carrying a ``priority=EMERGENCY`` item the agents play at once, at their
emergency volume, preempting anything (a relay included). The command's expiry is the
emergency's active window, so an agent that reconnects while it is active (persistent MQTT
session) still gets it, and one that reconnects later refuses it.

Per node: ``pending`` → ``received`` (command_ack) → ``playing`` / ``finished`` /
``failed`` (playback events naming the emergency's item id); ``expired`` if never acked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import CommandDelivery, Emergency, Media, PlaybackEvent, Zone
from controller.services.announcements import ensure_media
from controller.services.commands import issue_command, store_and_publish
from controller.services.emergency_chunks import chunks_for
from controller.services.horn import capped, zone_cap
from controller.services.pronunciation import entries_for_zones
from controller.services.renditions import with_alternatives
from controller.services.zones import ZoneTree
from protocol.chunks import ChunkedMedia
from protocol.models import Command, CommandAction, ItemKind, MediaRef, PlaylistItem, Priority

if TYPE_CHECKING:
    from controller.services.container import Controller

LATE_JOIN = timedelta(minutes=10)
"""A one-shot emergency stays deliverable this long, for agents that were briefly offline."""
MAX_ACTIVE = timedelta(days=7)


class EmergencyError(ValueError):
    """The request cannot become an emergency (unknown zone or media, bad timing)."""


class EmergencyNotFound(LookupError):
    """No emergency with that id."""


@dataclass(frozen=True)
class EmergencyRequest:
    """What to broadcast; give ``text`` (rendered to speech) or ``media_sha256`` (uploaded)."""

    zone_ids: list[str]
    text: str | None = None
    media_sha256: str | None = None
    title: str | None = None
    repeat: int = 1
    repeat_every_s: float | None = None
    until: datetime | None = None
    volume: int | None = None
    source: str = "operator"
    progressive: bool = True
    """Sign per-chunk hashes so agents may play a fresh text while it downloads."""


@dataclass(frozen=True)
class NodeStatus:
    node_id: str
    state: str
    plays: int = 0
    detail: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class EmergencyView:
    row: Emergency
    active: bool
    nodes: list[NodeStatus] = field(default_factory=list)


def issue_emergency(
    ctl: Controller, request: EmergencyRequest, created_by: str | None = None
) -> EmergencyView:
    """Render or look up the audio, store the emergency, publish one command per zone."""
    now = ctl.clock.now()
    _check_timing(request, now)
    with ctl.sessions.begin() as session:
        zones = _outermost_zones(session, request.zone_ids)
        caps = {zone: zone_cap(session, zone) for zone in zones}  # horn safety: capped too
        media = _media_for(ctl, session, request, now)
        emergency_id = uuid.uuid4().hex
        title = request.title or (request.text or "").strip().split("\n")[0][:120] or "Khẩn cấp"
        item = PlaylistItem(
            id=f"emg-{emergency_id}",
            kind=ItemKind.TTS if request.text else ItemKind.AUDIO,
            start=now,
            duration_s=media.duration_s,
            priority=Priority.EMERGENCY,
            title=title[:500],
            volume=request.volume,
            media=MediaRef(
                sha256=media.sha256, ext=media.ext, size=media.size, duration_s=media.duration_s
            ),
        )
        # fresh speech waits for its Opus (its signed chunks are cut from it); a recording does not
        item = with_alternatives(item, ctl.renditions, wait=request.text is not None)
        chunks = _chunks(ctl, request, item)
        expires_at = _active_until(request, now, media.duration_s)
        row = Emergency(
            id=emergency_id,
            title=title[:500],
            text=request.text,
            media_sha256=media.sha256,
            item_id=item.id,
            zone_ids=zones,
            repeat=request.repeat,
            repeat_every_s=request.repeat_every_s,
            until=request.until,
            volume=request.volume,
            source=request.source,
            issued_at=now,
            expires_at=expires_at,
            created_by=created_by,
            command_ids=[],
            cancel_command_ids=[],
        )
        session.add(row)
    command_ids = [
        publish_zone_command(
            ctl,
            Command(
                id=uuid.uuid4().hex,
                action=CommandAction.EMERGENCY,
                issued_at=now,
                expires_at=expires_at,
                zone_id=zone,
                item=item.model_copy(update={"volume": capped(item.volume, caps[zone])}),
                repeat=request.repeat,
                repeat_every_s=request.repeat_every_s,
                until=request.until,
                chunks=chunks,
            ),
            created_by,
        )
        for zone in zones
    ]
    with ctl.sessions.begin() as session:
        stored = session.get_one(Emergency, emergency_id)
        stored.command_ids = command_ids
    return get_emergency(ctl, emergency_id)


def cancel_emergency(ctl: Controller, emergency_id: str, by: str | None = None) -> EmergencyView:
    """Stop it everywhere (idempotent: a second cancel changes nothing)."""
    now = ctl.clock.now()
    with ctl.sessions() as session:
        row = session.get(Emergency, emergency_id)
        if row is None:
            raise EmergencyNotFound(f"no emergency {emergency_id!r}")
        if row.cancelled_at is not None:
            return get_emergency(ctl, emergency_id)
        zones = list(row.zone_ids)
    cancel_ids = [
        issue_command(
            ctl, action=CommandAction.CANCEL_EMERGENCY, zone_id=zone, created_by=by
        ).command.id
        for zone in zones
    ]
    with ctl.sessions.begin() as session:
        row = session.get_one(Emergency, emergency_id)
        row.cancelled_at = now
        row.cancelled_by = by
        row.cancel_command_ids = cancel_ids
    return get_emergency(ctl, emergency_id)


def get_emergency(ctl: Controller, emergency_id: str) -> EmergencyView:
    with ctl.sessions() as session:
        row = session.get(Emergency, emergency_id)
        if row is None:
            raise EmergencyNotFound(f"no emergency {emergency_id!r}")
        return _view(session, row, ctl.clock.now(), with_nodes=True)


def list_emergencies(ctl: Controller, limit: int = 100) -> list[EmergencyView]:
    now = ctl.clock.now()
    with ctl.sessions() as session:
        query = select(Emergency).order_by(Emergency.issued_at.desc()).limit(limit)
        return [_view(session, row, now, with_nodes=False) for row in session.scalars(query)]


def _view(session: Session, row: Emergency, now: datetime, *, with_nodes: bool) -> EmergencyView:
    active = row.cancelled_at is None and now < row.expires_at
    nodes = node_statuses(session, row, now) if with_nodes else []
    session.expunge(row)
    return EmergencyView(row, active, nodes)


def node_statuses(session: Session, row: Emergency, now: datetime) -> list[NodeStatus]:
    """Each reached node's state, from its command delivery and its playback events."""
    deliveries = session.scalars(
        select(CommandDelivery).where(CommandDelivery.command_id.in_(row.command_ids))
    ).all()
    events = session.scalars(
        select(PlaybackEvent)
        .where(PlaybackEvent.item_id == row.item_id)
        .order_by(PlaybackEvent.node_id, PlaybackEvent.seq)
    ).all()
    by_node: dict[str, list[PlaybackEvent]] = {}
    for event in events:
        by_node.setdefault(event.node_id, []).append(event)
    statuses: dict[str, NodeStatus] = {}
    for d in deliveries:
        if d.node_id in statuses and statuses[d.node_id].state != "pending":
            continue
        mine = by_node.get(d.node_id, [])
        if mine:
            last = mine[-1]
            plays = sum(1 for e in mine if e.kind == "finished")
            state = {"started": "playing", "finished": "finished"}.get(last.kind, "failed")
            statuses[d.node_id] = NodeStatus(d.node_id, state, plays, last.detail, last.at)
        elif d.state == "acked":
            statuses[d.node_id] = NodeStatus(d.node_id, "received", 0, d.detail, d.updated_at)
        elif d.state == "pending" and now >= row.expires_at:
            statuses[d.node_id] = NodeStatus(d.node_id, "expired", 0, d.detail, d.updated_at)
        else:
            statuses[d.node_id] = NodeStatus(d.node_id, d.state, 0, d.detail, d.updated_at)
    return [statuses[n] for n in sorted(statuses)]


def publish_zone_command(ctl: Controller, command: Command, created_by: str | None) -> str:
    """``issue_command`` for a prebuilt command (it does not take ``repeat_every_s``/``until``
    yet): sign, store the command and a pending delivery per reached node, publish once."""
    store_and_publish(ctl, command, created_by)
    return command.id


def _check_timing(request: EmergencyRequest, now: datetime) -> None:
    if not request.zone_ids:
        raise EmergencyError("an emergency needs at least one zone")
    if (request.text is None) == (request.media_sha256 is None):
        raise EmergencyError("give exactly one of text or media_sha256")
    if request.until is not None and request.until <= now:
        raise EmergencyError("until is in the past")
    if request.until is not None and request.until - now > MAX_ACTIVE:
        raise EmergencyError("until is more than 7 days ahead")
    if request.repeat_every_s is not None and request.repeat < 2 and request.until is None:
        raise EmergencyError("repeating every M minutes needs --repeat N (N ≥ 2) or an end time")


def _outermost_zones(session: Session, zone_ids: list[str]) -> list[str]:
    """Known zones, without those already covered by a targeted ancestor (no double play)."""
    wanted = list(dict.fromkeys(zone_ids))
    known = set(session.scalars(select(Zone.id).where(Zone.id.in_(wanted))))
    unknown = [z for z in wanted if z not in known]
    if unknown:
        raise EmergencyError(f"unknown zone: {', '.join(unknown)}")
    tree = ZoneTree.load(session)
    chosen = set(wanted)
    return [z for z in wanted if not (set(tree.ancestors_and_self(z)[1:]) & chosen)]


def _media_for(
    ctl: Controller, session: Session, request: EmergencyRequest, now: datetime
) -> Media:
    if request.text is not None:
        entries = entries_for_zones(session, request.zone_ids)
        rendered = ctl.renderer.render_text(
            request.text, engine=_emergency_engine(ctl), entries=entries
        )
        return ensure_media(session, rendered, "tts", now)
    media = session.get(Media, request.media_sha256)
    if media is None:
        raise EmergencyError(f"no uploaded media {request.media_sha256!r}")
    return media


def _emergency_engine(ctl: Controller) -> str | None:
    """The offline engine for fresh emergency speech if the chain has it: an online one
    (gTTS) costs seconds and may time out, and in an emergency every second counts."""
    wanted = ctl.settings.emergency_tts_engine
    return wanted if wanted and wanted in ctl.renderer.chain.names else None


def _chunks(ctl: Controller, request: EmergencyRequest, item: PlaylistItem) -> ChunkedMedia | None:
    """Signed chunk hashes for fresh speech (not an upload: that is usually pre-cached)."""
    size_kb = ctl.settings.emergency_chunk_kb
    if request.text is None or not request.progressive or size_kb <= 0:
        return None
    return chunks_for(ctl.media_store, item, size_kb * 1024)


def _active_until(request: EmergencyRequest, now: datetime, duration_s: float) -> datetime:
    """How long agents may still start it: the end time, or the plays plus a late-join margin."""
    if request.until is not None:
        return request.until
    period = max(request.repeat_every_s or 0.0, duration_s)
    return now + timedelta(seconds=period * request.repeat) + LATE_JOIN
