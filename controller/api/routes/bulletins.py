"""Bulletins from above a commune (``/bulletins``) and each commune's inbox (``/inbox``).

Publishing needs the operator role and a scope *above* every target commune (a province or
district user, or an all-communes admin): a commune cannot send itself upstream bulletins
(403). The inbox shows deliveries to the caller's communes; acting on another commune's
delivery is 404, exactly as if it did not exist. See docs/bulletins.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from controller.api import audit_trail
from controller.api.deps import ControllerDep, Operator, SessionDep, Viewer
from controller.api.schemas import AwareDatetime, Slug, StrictBody
from controller.api.scoping import ScopeDep
from controller.auth.scope import Scope
from controller.db.models import Bulletin, BulletinDelivery
from controller.services.bulletins import (
    BulletinError,
    BulletinNotFound,
    DeliveryView,
    NotASender,
    decline_delivery,
    delivery_views,
    get_delivery,
    inbox_deliveries,
    publish_bulletin,
    reorder_slot_head,
    schedule_delivery,
    sender_request,
)
from controller.services.emergency import EmergencyError

router = APIRouter(prefix="/api/v1", tags=["bulletins"])
_422 = status.HTTP_422_UNPROCESSABLE_CONTENT
BulletinId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class BulletinIn(StrictBody):
    level: Literal["normal", "priority", "emergency"] = "normal"
    communes: Annotated[list[Slug], Field(min_length=1, max_length=500)]
    text: Annotated[str, Field(min_length=1, max_length=10_000)] | None = None
    media_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    title: Annotated[str, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> BulletinIn:
        if (self.text is None) == (self.media_sha256 is None):
            raise ValueError("give exactly one of text or media_sha256")
        return self


DeliveryOut = DeliveryView


class BulletinOut(BaseModel):
    id: int
    level: str
    title: str
    text: str | None
    media_url: str | None
    duration_s: float
    source: str
    source_zone_id: str | None
    created_by: str | None
    created_at: datetime
    deliveries: list[DeliveryOut]


class InboxItemOut(DeliveryOut):
    level: str
    title: str
    text: str | None
    media_url: str | None
    duration_s: float
    from_zone_id: str | None
    created_by: str | None
    created_at: datetime


class ScheduleIn(StrictBody):
    slot_id: Slug | None = None
    start: AwareDatetime | None = None


class DeclineIn(StrictBody):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class ReorderIn(StrictBody):
    zone_id: Slug
    slot_id: Slug
    start: AwareDatetime
    announcement_ids: Annotated[list[int], Field(min_length=1, max_length=200)]


def _media_url(base: str, b: Bulletin) -> str | None:
    return f"{base}/media/{b.media_sha256}.mp3" if b.media_sha256 else None


@router.post("/bulletins", status_code=status.HTTP_201_CREATED)
async def create_bulletin(
    body: BulletinIn,
    request: Request,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
    session: SessionDep,
) -> BulletinOut:
    """Publish to communes: normal -> their inboxes, priority -> head of the next slot,
    emergency -> the emergency path at once."""
    try:
        req = sender_request(
            session,
            scope,
            who.communes,
            level=body.level,
            communes=body.communes,
            text=body.text,
            media_sha256=body.media_sha256,
            title=body.title,
        )
    except BulletinError as exc:
        raise HTTPException(_422, str(exc)) from None
    except NotASender as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    communes = req.communes

    def work() -> int:
        try:
            bulletin_id = publish_bulletin(ctl, req, who.username)
        except (BulletinError, EmergencyError, AudioRejected) as exc:
            raise HTTPException(_422, str(exc)) from None
        except (AudioToolError, SynthesisFailed) as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"speech synthesis failed: {exc}"
            ) from None
        with ctl.sessions.begin() as s:
            audit_trail.add(
                s,
                ctl,
                who,
                request,
                "bulletin.create",
                f"bulletin:{bulletin_id}",
                f"level={body.level} communes={','.join(communes)}",
            )
        return bulletin_id

    bulletin_id = await run_in_threadpool(work)
    session.expire_all()
    return _bulletin_out(session, ctl.settings.resolved_public_url, bulletin_id, scope)


def _bulletin_out(session: SessionDep, base: str, bulletin_id: int, scope: Scope) -> BulletinOut:
    b = session.get(Bulletin, bulletin_id)
    if b is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such bulletin")
    mine = [d for d in b.deliveries if scope.allows_zone(d.zone_id)]
    if not mine:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such bulletin")
    return BulletinOut(
        id=b.id,
        **_content(b, base),
        source=b.source,
        source_zone_id=b.source_zone_id,
        deliveries=delivery_views(session, mine),
    )


def _content(b: Bulletin, base: str) -> dict[str, Any]:
    """What the sender wrote, as both the sender's view and a commune's inbox show it."""
    return {
        "level": b.level,
        "title": b.title,
        "text": b.text,
        "media_url": _media_url(base, b),
        "duration_s": b.duration_s,
        "created_by": b.created_by,
        "created_at": b.created_at,
    }


@router.get("/bulletins")
def list_bulletins(
    session: SessionDep, ctl: ControllerDep, _: Viewer, scope: ScopeDep, limit: int = 50
) -> list[BulletinOut]:
    """The sender's view, newest first: per commune of the caller's scope, what happened."""
    query = select(Bulletin.id).order_by(Bulletin.id.desc()).limit(min(max(limit, 1), 500))
    if not scope.everything:
        query = query.where(Bulletin.deliveries.any(BulletinDelivery.zone_id.in_(scope.zone_ids)))
    base = ctl.settings.resolved_public_url
    return [_bulletin_out(session, base, i, scope) for i in session.scalars(query)]


@router.get("/bulletins/{bulletin_id}")
def get_bulletin(
    bulletin_id: BulletinId, session: SessionDep, ctl: ControllerDep, _: Viewer, scope: ScopeDep
) -> BulletinOut:
    return _bulletin_out(session, ctl.settings.resolved_public_url, bulletin_id, scope)


def inbox_items(
    session: SessionDep, base: str, scope: Scope, state: str | None
) -> list[InboxItemOut]:
    out = []
    for v in delivery_views(session, inbox_deliveries(session, scope, state)):
        b = session.get_one(Bulletin, v.bulletin_id)
        out.append(
            InboxItemOut(**v.model_dump(), **_content(b, base), from_zone_id=b.source_zone_id)
        )
    return out


@router.get("/inbox")
def list_inbox(
    session: SessionDep,
    ctl: ControllerDep,
    _: Viewer,
    scope: ScopeDep,
    state: Literal["received", "scheduled", "declined"] | None = None,
) -> list[InboxItemOut]:
    """Bulletins addressed to the caller's communes, newest first."""
    return inbox_items(session, ctl.settings.resolved_public_url, scope, state)


def _own_delivery(
    session: SessionDep, scope: Scope, bulletin_id: int, zone_id: str
) -> BulletinDelivery:
    if not scope.allows_zone(zone_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such bulletin in this commune")
    try:
        return get_delivery(session, bulletin_id, zone_id)
    except BulletinNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such bulletin in this commune") from None


@router.post("/inbox/{bulletin_id}/{zone_id}/schedule")
def schedule_from_inbox(
    bulletin_id: BulletinId,
    zone_id: Slug,
    body: ScheduleIn,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
) -> DeliveryOut:
    """Air a normal bulletin in this commune: the next run of a slot, or at a time."""
    delivery = _own_delivery(session, scope, bulletin_id, zone_id)
    try:
        ann = schedule_delivery(
            ctl, session, delivery, slot_id=body.slot_id, start=body.start, by=who.username
        )
    except BulletinError as exc:
        raise HTTPException(_422, str(exc)) from None
    audit_trail.add(
        session,
        ctl,
        who,
        request,
        "bulletin.schedule",
        f"bulletin:{bulletin_id}",
        f"zone={zone_id} announcement={ann.id} start={ann.start.isoformat()}",
    )
    session.commit()
    ctl.publisher.refresh()
    return delivery_views(session, [delivery])[0]


@router.post("/inbox/{bulletin_id}/{zone_id}/decline")
def decline_from_inbox(
    bulletin_id: BulletinId,
    zone_id: Slug,
    body: DeclineIn,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
) -> DeliveryOut:
    """Decline a normal bulletin with a reason the sender sees (priority/emergency: 422)."""
    delivery = _own_delivery(session, scope, bulletin_id, zone_id)
    level = session.get_one(Bulletin, bulletin_id).level
    try:
        decline_delivery(ctl, delivery, body.reason, who.username, level)
    except BulletinError as exc:
        raise HTTPException(_422, str(exc)) from None
    audit_trail.add(
        session,
        ctl,
        who,
        request,
        "bulletin.decline",
        f"bulletin:{bulletin_id}",
        f"zone={zone_id} reason={body.reason[:200]}",
    )
    session.commit()
    return delivery_views(session, [delivery])[0]


@router.post("/inbox/slot-order", status_code=status.HTTP_204_NO_CONTENT)
def reorder_priority_items(
    body: ReorderIn,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
) -> None:
    """Reorder the priority items at the head of one slot run (only those: 422 otherwise)."""
    if not scope.allows_zone(body.zone_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "that commune is outside your scope")
    try:
        reorder_slot_head(session, body.zone_id, body.slot_id, body.start, body.announcement_ids)
    except BulletinError as exc:
        raise HTTPException(_422, str(exc)) from None
    audit_trail.add(
        session,
        ctl,
        who,
        request,
        "bulletin.reorder",
        f"slot:{body.slot_id}",
        f"zone={body.zone_id} order={body.announcement_ids}",
    )
    session.commit()
    ctl.publisher.refresh()
