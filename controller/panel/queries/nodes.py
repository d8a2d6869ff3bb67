"""Nodes for the list and node pages: filters, heartbeats, playlist, playback, commands."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import (
    Command,
    CommandDelivery,
    Heartbeat,
    Node,
    PlaybackEvent,
    PublishedPlaylist,
    Zone,
)
from controller.services.zones import ZoneTree
from protocol.models import Playlist

STATUSES = ("online", "offline", "playing")


@dataclass(frozen=True)
class NodeFilter:
    query: str = ""
    zone: str = ""
    status: str = ""


def is_playing(node: Node) -> bool:
    return node.online and bool((node.last_heartbeat or {}).get("current_item"))


def clock_flag(node: Node, echo_offset_ms: float) -> tuple[str, float] | None:
    """Why this node's clock would make it echo its neighbours, from its last heartbeat:
    ``("echo", offset_ms)`` past the limit, ``("unsynced", 0)`` when its time daemon says
    it is not synchronised; None when fine or unknown (old agents send neither)."""
    hb = node.last_heartbeat or {}
    offset = hb.get("clock_offset_ms")
    if isinstance(offset, int | float) and abs(offset) > echo_offset_ms:
        return ("echo", float(offset))
    if hb.get("clock_synced") is False:
        return ("unsynced", 0.0)
    return None


def list_nodes(session: Session, scope: Scope, flt: NodeFilter, limit: int = 1000) -> list[Node]:
    query = select(Node).where(Node.revoked_at.is_(None)).order_by(Node.zone_id, Node.id)
    if not scope.everything:
        query = query.where(Node.id.in_(scope.node_ids))
    if flt.zone:
        zones = ZoneTree.load(session).descendants_and_self(flt.zone)
        query = query.where(Node.zone_id.in_(zones))
    if flt.query:
        like = f"%{flt.query.strip()}%"
        query = query.where(or_(Node.id.ilike(like), Node.name.ilike(like)))
    if flt.status == "online":
        query = query.where(Node.online.is_(True))
    elif flt.status == "offline":
        query = query.where(Node.online.is_(False))
    nodes = list(session.scalars(query.limit(limit)))
    if flt.status == "playing":
        nodes = [n for n in nodes if is_playing(n)]
    return nodes


def zones_in_scope(session: Session, scope: Scope) -> list[Zone]:
    query = select(Zone).order_by(Zone.parent_id.is_not(None), Zone.name)
    if not scope.everything:
        query = query.where(Zone.id.in_(scope.zone_ids))
    return list(session.scalars(query))


def heartbeats(session: Session, node_id: str, limit: int = 60) -> list[Heartbeat]:
    rows = session.scalars(
        select(Heartbeat)
        .where(Heartbeat.node_id == node_id)
        .order_by(Heartbeat.sent_at.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


def current_playlist(session: Session, node_id: str) -> Playlist | None:
    row = session.get(PublishedPlaylist, node_id)
    if row is None:
        return None
    try:
        return Playlist.model_validate(json.loads(row.payload)["payload"])
    except (ValueError, KeyError, TypeError, ValidationError):
        return None


def recent_playback(session: Session, node_id: str, limit: int = 20) -> list[PlaybackEvent]:
    return list(
        session.scalars(
            select(PlaybackEvent)
            .where(PlaybackEvent.node_id == node_id)
            .order_by(PlaybackEvent.at.desc(), PlaybackEvent.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class CommandView:
    id: str
    action: str
    issued_at: datetime
    created_by: str | None
    state: str
    detail: str


def recent_commands(
    session: Session, node_id: str, now: datetime, limit: int = 10
) -> list[CommandView]:
    rows = session.execute(
        select(Command, CommandDelivery)
        .join(CommandDelivery, CommandDelivery.command_id == Command.id)
        .where(CommandDelivery.node_id == node_id)
        .order_by(Command.issued_at.desc())
        .limit(limit)
    ).all()
    out = []
    for command, delivery in rows:
        state = delivery.state
        if state == "pending" and now >= command.expires_at:
            state = "expired"
        out.append(
            CommandView(
                command.id,
                command.action,
                command.issued_at,
                command.created_by,
                state,
                delivery.detail,
            )
        )
    return out
