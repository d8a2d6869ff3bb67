"""Emergency broadcasts: issue to zones, cancel, and follow each node's status.

Issuing and cancelling need the operator role and, for a commune-scoped operator, every
target zone inside their communes. Each issue and cancel is written to the audit log.
Reading shows only emergencies whose zones reach the caller's communes (404 for others),
and of each only the caller's nodes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, model_validator

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from controller.api import audit_trail
from controller.api.deps import ControllerDep, Operator, Viewer
from controller.api.schemas import AwareDatetime, Slug, StrictBody
from controller.api.scoping import ScopeDep, require_editable, require_targets
from controller.auth.scope import Scope
from controller.services.emergency import (
    EmergencyError,
    EmergencyNotFound,
    EmergencyRequest,
    EmergencyView,
    cancel_emergency,
    get_emergency,
    issue_emergency,
    list_emergencies,
)

router = APIRouter(prefix="/api/v1/emergencies", tags=["emergencies"])


class EmergencyIn(StrictBody):
    zones: Annotated[list[Slug], Field(min_length=1, max_length=200)]
    text: Annotated[str, Field(min_length=1, max_length=10_000)] | None = None
    media_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    title: Annotated[str, Field(max_length=500)] | None = None
    repeat: Annotated[int, Field(ge=1, le=1000)] = 1
    every_min: Annotated[float, Field(ge=0.5, le=24 * 60)] | None = None
    until: AwareDatetime | None = None
    volume: Annotated[int, Field(ge=0, le=100)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> EmergencyIn:
        if (self.text is None) == (self.media_sha256 is None):
            raise ValueError("give exactly one of text or media_sha256")
        return self


class NodeStatusOut(BaseModel):
    node_id: str
    state: str
    plays: int
    detail: str
    at: datetime | None


class EmergencyOut(BaseModel):
    id: str
    title: str
    text: str | None
    zones: list[str]
    item_id: str
    media_sha256: str
    repeat: int
    every_min: float | None
    until: datetime | None
    source: str
    issued_at: datetime
    expires_at: datetime
    created_by: str | None
    active: bool
    cancelled_at: datetime | None
    cancelled_by: str | None
    command_ids: list[str]
    nodes: list[NodeStatusOut]


def _out(view: EmergencyView, scope: Scope) -> EmergencyOut:
    row = view.row
    return EmergencyOut(
        id=row.id,
        title=row.title,
        text=row.text,
        zones=list(row.zone_ids),
        item_id=row.item_id,
        media_sha256=row.media_sha256,
        repeat=row.repeat,
        every_min=row.repeat_every_s / 60 if row.repeat_every_s else None,
        until=row.until,
        source=row.source,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        created_by=row.created_by,
        active=view.active,
        cancelled_at=row.cancelled_at,
        cancelled_by=row.cancelled_by,
        command_ids=list(row.command_ids),
        nodes=[NodeStatusOut(**vars(n)) for n in view.nodes if scope.allows_node(n.node_id)],
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_emergency(
    body: EmergencyIn, request: Request, ctl: ControllerDep, who: Operator, scope: ScopeDep
) -> EmergencyOut:
    """Preempt every speaker in the zones now; repeat as asked until the end time or a cancel."""
    emergency = EmergencyRequest(
        zone_ids=list(body.zones),
        text=body.text,
        media_sha256=body.media_sha256,
        title=body.title,
        repeat=body.repeat,
        repeat_every_s=body.every_min * 60 if body.every_min else None,
        until=body.until,
        volume=body.volume,
    )

    def work() -> EmergencyView:
        require_targets(scope, emergency.zone_ids, [])
        try:
            view = issue_emergency(ctl, emergency, created_by=who.username)
        except (EmergencyError, AudioRejected) as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        except (AudioToolError, SynthesisFailed) as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"speech synthesis failed: {exc}"
            ) from None
        audit_trail.write(
            ctl,
            who,
            request,
            "emergency.issue",
            f"emergency:{view.row.id}",
            f"zones={','.join(view.row.zone_ids)} nodes={len(view.nodes)}",
        )
        return view

    return _out(await run_in_threadpool(work), scope)


@router.post("/{emergency_id}/cancel")
async def cancel(
    emergency_id: str, request: Request, ctl: ControllerDep, who: Operator, scope: ScopeDep
) -> EmergencyOut:
    """Stop it everywhere: only for an emergency wholly inside the caller's communes."""

    def work() -> EmergencyView:
        try:
            found = get_emergency(ctl, emergency_id)
            require_editable(scope, list(found.row.zone_ids), [], _missing(emergency_id))
            view = cancel_emergency(ctl, emergency_id, by=who.username)
        except EmergencyNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        audit_trail.write(
            ctl, who, request, "emergency.cancel", f"emergency:{emergency_id}", view.row.title
        )
        return view

    return _out(await run_in_threadpool(work), scope)


def _missing(emergency_id: str) -> str:
    return str(EmergencyNotFound(f"no emergency {emergency_id!r}"))


@router.get("")
def list_all(
    ctl: ControllerDep, _: Viewer, scope: ScopeDep, limit: int = 100
) -> list[EmergencyOut]:
    """Newest first, those whose zones reach the caller's communes."""
    limit = min(max(limit, 1), 1000)
    views = list_emergencies(ctl, limit if scope.everything else 1000)
    return [_out(v, scope) for v in views if scope.sees(v.row.zone_ids, [])][:limit]


@router.get("/{emergency_id}")
def detail(emergency_id: str, ctl: ControllerDep, _: Viewer, scope: ScopeDep) -> EmergencyOut:
    """The emergency with each reached node's received / playing / finished / failed state."""
    try:
        view = get_emergency(ctl, emergency_id)
    except EmergencyNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    if not scope.sees(view.row.zone_ids, []):
        raise HTTPException(status.HTTP_404_NOT_FOUND, _missing(emergency_id))
    return _out(view, scope)
