"""The pronunciation dictionary over the API: operators manage their communes' entries,
admins every entry; a "listen" preview renders a sample sentence with an entry applied."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from audio.normalise.lexicon import check_entry
from controller.api import audit_trail
from controller.api.deps import ControllerDep, Operator, SessionDep
from controller.api.routes.tts import _http_error, preview_response
from controller.api.scoping import ScopeDep
from controller.auth.principal import Principal
from controller.auth.scope import Scope
from controller.db.models import Pronunciation
from controller.services.container import Controller
from controller.services.pronunciation import (
    PronunciationError,
    add_entry,
    all_entries,
    entries_for_zones,
    update_entry,
)
from controller.services.zones import ZoneTree

router = APIRouter(prefix="/api/v1/pronunciations", tags=["pronunciations"])
EntryId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    written: str = Field(min_length=1, max_length=100)
    spoken: str = Field(min_length=1, max_length=300)
    zone_id: str = Field(min_length=1, max_length=64)


class EntryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    spoken: str = Field(min_length=1, max_length=300)


class PreviewIn(EntryIn):
    sample: str = Field(min_length=1, max_length=2000)


class EntryOut(BaseModel):
    id: int
    written: str
    spoken: str
    zone_id: str
    editable: bool
    created_by: str | None
    created_at: datetime
    updated_by: str | None
    updated_at: datetime


def _out(row: Pronunciation, scope: Scope) -> EntryOut:
    return EntryOut(
        id=row.id,
        written=row.written,
        spoken=row.spoken,
        zone_id=row.scope_zone_id,
        editable=scope.allows_zone(row.scope_zone_id),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def visible_zones(session: SessionDep, scope: Scope) -> set[str] | None:
    """The caller's zones and the zones above them (a commune reads its province's
    entries); None = everything."""
    if scope.everything:
        return None
    tree = ZoneTree.load(session)
    return {a for z in scope.zone_ids for a in tree.ancestors_and_self(z)}


def _editable(session: SessionDep, scope: Scope, entry_id: int) -> Pronunciation:
    row = session.get(Pronunciation, entry_id)
    if row is None or not scope.allows_zone(row.scope_zone_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no entry {entry_id}")
    return row


def _require_zone(scope: Scope, zone_id: str) -> None:
    if not scope.allows_zone(zone_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "that zone is outside your communes")


@router.get("")
def list_entries(session: SessionDep, scope: ScopeDep, _: Operator) -> list[EntryOut]:
    zones = visible_zones(session, scope)
    rows = all_entries(session)
    return [_out(r, scope) for r in rows if zones is None or r.scope_zone_id in zones]


def _audit(
    session: Session,
    ctl: Controller,
    who: Principal,
    request: Request,
    verb: str,
    row: Pronunciation,
    detail: str,
) -> None:
    """One audit line per change, named by the entry's zone and written form."""
    target = f"{row.scope_zone_id}:{row.written}"
    audit_trail.add(session, ctl, who, request, f"pronunciation.{verb}", target, detail)


@router.post("", status_code=status.HTTP_201_CREATED)
def create(
    body: EntryIn,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    scope: ScopeDep,
    who: Operator,
) -> EntryOut:
    _require_zone(scope, body.zone_id)
    now = ctl.clock.now()
    try:
        row = add_entry(
            session,
            written=body.written,
            spoken=body.spoken,
            zone_id=body.zone_id,
            who=who.username,
            now=now,
        )
    except PronunciationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, exc.reason) from None
    _audit(session, ctl, who, request, "add", row, row.spoken)
    session.commit()
    return _out(row, scope)


@router.patch("/{entry_id}")
def update(
    entry_id: EntryId,
    body: EntryPatch,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    scope: ScopeDep,
    who: Operator,
) -> EntryOut:
    row = _editable(session, scope, entry_id)
    now = ctl.clock.now()
    before = row.spoken
    try:
        update_entry(session, row, spoken=body.spoken, who=who.username, now=now)
    except PronunciationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, exc.reason) from None
    _audit(session, ctl, who, request, "update", row, f"{before} -> {row.spoken}")
    session.commit()
    return _out(row, scope)


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(
    entry_id: EntryId,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    scope: ScopeDep,
    who: Operator,
) -> Response:
    row = _editable(session, scope, entry_id)
    _audit(session, ctl, who, request, "delete", row, row.spoken)
    session.delete(row)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/preview")
async def preview(
    body: PreviewIn, session: SessionDep, ctl: ControllerDep, scope: ScopeDep, who: Operator
) -> Response:
    """The sample sentence rendered with the zone's entries and this (unsaved) one (its maker
    may fetch it again at ``/media/``)."""
    _require_zone(scope, body.zone_id)
    entries = {**entries_for_zones(session, [body.zone_id]), body.written: body.spoken}
    reason = check_entry(body.written, body.spoken)
    if reason is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, reason)
    try:
        media = await run_in_threadpool(ctl.renderer.render_text, body.sample, entries=entries)
    except (AudioRejected, SynthesisFailed, AudioToolError) as exc:
        raise _http_error(exc) from None
    return preview_response(ctl, session, media, who.username)
