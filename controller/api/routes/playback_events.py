"""Playback events as stored (exactly once per node and sequence number)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from sqlalchemy import select

from controller.api.deps import SessionDep, Viewer
from controller.api.schemas import AwareDatetime, PlaybackEventOut
from controller.api.scoping import ScopeDep
from controller.db.models import PlaybackEvent

router = APIRouter(prefix="/api/v1/playback-events", tags=["playback"])


@router.get("")
def list_events(
    session: SessionDep,
    _: Viewer,
    scope: ScopeDep,
    node: str | None = None,
    since: AwareDatetime | None = None,
    limit: int = Query(500, ge=1, le=10_000),
) -> list[PlaybackEventOut]:
    query = select(PlaybackEvent).order_by(
        PlaybackEvent.at, PlaybackEvent.node_id, PlaybackEvent.seq
    )
    if node is not None:
        query = query.where(PlaybackEvent.node_id == node)
    if not scope.everything:
        query = query.where(PlaybackEvent.node_id.in_(scope.node_ids))
    if since is not None:
        query = query.where(PlaybackEvent.at >= since)
    return [
        PlaybackEventOut(
            node_id=e.node_id,
            seq=e.seq,
            kind=e.kind,
            at=e.at,
            item_id=e.item_id,
            command_id=e.command_id,
            detail=e.detail,
            received_at=e.received_at,
        )
        for e in session.scalars(query.limit(limit))
    ]


_ = datetime
