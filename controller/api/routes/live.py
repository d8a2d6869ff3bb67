"""Live broadcasts: the panel's "Phát trực tiếp" (microphone → Icecast → chosen zones).

``GET`` says whether live is available (and why not); ``POST`` starts one for zones in the
caller's communes; the browser then posts its Opus/WebM chunks to ``/{id}/audio`` as they
are recorded; ``/{id}/stop`` ends it and stops the zones. See docs/live.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from controller.api import audit_trail
from controller.api.deps import ControllerDep, Operator, SessionDep, Viewer
from controller.api.schemas import Slug, StrictBody
from controller.api.scoping import ScopeDep, require_targets
from controller.auth.scope import Scope
from controller.db.models import Zone
from controller.services.live import (
    MAX_CHUNK_BYTES,
    LiveDesk,
    LiveError,
    LiveSession,
    LiveUnavailable,
    live_desk,
)

router = APIRouter(prefix="/api/v1/live", tags=["live"])


class LiveIn(StrictBody):
    zones: Annotated[list[Slug], Field(min_length=1, max_length=100)]


class LiveOut(BaseModel):
    id: str
    zones: list[str]
    started_at: datetime
    started_by: str | None
    listen_url: str
    on_air_at: datetime | None
    ended_at: datetime | None
    bytes_in: int
    chunks: int


class LiveStatus(BaseModel):
    enabled: bool
    reason: str | None
    current: LiveOut | None


class ChunkOut(BaseModel):
    bytes_in: int
    chunks: int
    on_air: bool
    received_at: datetime


def _out(s: LiveSession) -> LiveOut:
    return LiveOut(
        id=s.id,
        zones=s.zones,
        started_at=s.started_at,
        started_by=s.started_by,
        listen_url=s.listen_url,
        on_air_at=s.on_air_at,
        ended_at=s.ended_at,
        bytes_in=s.bytes_in,
        chunks=s.chunks,
    )


def _mine(desk: LiveDesk, scope: Scope, live_id: str, *, ended_too: bool = False) -> LiveSession:
    """The active broadcast if it is this one and all its zones are the caller's (else 404).

    ``ended_too``: also the latest broadcast after it ended (by itself, when its feed broke,
    or by another click), so pressing "end" on it answers "ended" instead of an error.
    """
    session = desk.session if ended_too else desk.active()
    if session is None or session.id != live_id or not scope.allows_targets(session.zones, []):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no live broadcast {live_id!r} on air")
    return session


@router.get("")
def live_status(ctl: ControllerDep, _: Viewer, scope: ScopeDep) -> LiveStatus:
    desk = live_desk(ctl)
    current = desk.active()
    if current is not None and not scope.sees(current.zones, []):
        current = None
    reason = desk.unavailable_reason()
    return LiveStatus(enabled=reason is None, reason=reason, current=current and _out(current))


@router.post("", status_code=status.HTTP_201_CREATED)
async def start_live(
    body: LiveIn,
    request: Request,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
    session: SessionDep,
) -> LiveOut:
    require_targets(scope, body.zones, [])
    unknown = [z for z in body.zones if session.get(Zone, z) is None]
    if unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown zones {unknown}")
    desk = live_desk(ctl)
    try:
        live = await run_in_threadpool(desk.start, sorted(set(body.zones)), who.username)
    except LiveUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    except LiveError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    audit_trail.write(ctl, who, request, "live.start", f"live:{live.id}", ",".join(live.zones))
    return _out(live)


@router.post("/{live_id}/audio")
async def live_audio(
    live_id: str, request: Request, ctl: ControllerDep, _: Operator, scope: ScopeDep
) -> ChunkOut:
    """One recorded chunk (the request body, at most 512 KiB), fed to Icecast at once."""
    desk = live_desk(ctl)
    _mine(desk, scope, live_id)
    chunk = await request.body()
    if not chunk or len(chunk) > MAX_CHUNK_BYTES:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"a chunk is 1 to {MAX_CHUNK_BYTES} bytes"
        )
    try:
        live = await run_in_threadpool(desk.write, live_id, chunk)
    except LiveError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return ChunkOut(
        bytes_in=live.bytes_in,
        chunks=live.chunks,
        on_air=live.on_air_at is not None,
        received_at=ctl.clock.now(),
    )


@router.post("/{live_id}/stop")
async def stop_live(
    live_id: str, request: Request, ctl: ControllerDep, who: Operator, scope: ScopeDep
) -> LiveOut:
    desk = live_desk(ctl)
    _mine(desk, scope, live_id, ended_too=True)
    try:
        live = await run_in_threadpool(desk.stop, live_id, who.username)
    except LiveError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    audit_trail.write(ctl, who, request, "live.stop", f"live:{live.id}", f"bytes={live.bytes_in}")
    return _out(live)
