"""Approval before air: the approvers' queue, approve/reject with a comment, the operators'
submit and edit, and the review of emergencies (which are never held, only flagged).

Approving and rejecting need the approver role (admins too); a viewer or operator gets 403.
Objects outside the caller's communes are 404. See docs/bulletins.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from controller.api import audit_trail
from controller.api.deps import Approver, ControllerDep, Operator, SessionDep, Viewer
from controller.api.schemas import AwareDatetime, StrictBody
from controller.api.scoping import (
    ScopeDep,
    require_editable,
    require_visible,
    visible_announcements,
)
from controller.auth.principal import Principal
from controller.auth.scope import Scope
from controller.db.models import Announcement, Emergency
from controller.services import visual
from controller.services.announcements import announcement_targets, ensure_media
from controller.services.approval import Action, ApprovalError
from controller.services.approvals import apply, review_emergency
from controller.services.pronunciation import entries_for_targets
from controller.services.visual import VisualIn

router = APIRouter(prefix="/api/v1", tags=["approvals"])
_422 = status.HTTP_422_UNPROCESSABLE_CONTENT
_MISSING = "no such announcement"
AnnId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class ApprovalItemOut(BaseModel):
    id: int
    title: str
    text: str | None
    media_url: str | None
    start: datetime
    slot_id: str | None
    targets: list[str]
    level: str
    origin: str
    approval: str
    created_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    approval_comment: str | None
    visual: dict[str, Any] | None = None


class CommentIn(StrictBody):
    comment: Annotated[str, Field(max_length=2000)] = ""


class RejectIn(StrictBody):
    comment: Annotated[str, Field(min_length=1, max_length=2000)]


class EditIn(StrictBody):
    text: Annotated[str, Field(min_length=1, max_length=20_000)] | None = None
    title: Annotated[str, Field(max_length=500)] | None = None
    start: AwareDatetime | None = None
    visual: VisualIn | None = None
    """E-board content replacing the old one; ``null`` removes it, absent leaves it."""


class EmergencyReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    zone_ids: list[str]
    issued_at: datetime
    created_by: str | None
    needs_review: bool
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_comment: str | None


def item_out(ann: Announcement, base: str) -> ApprovalItemOut:
    return ApprovalItemOut(
        id=ann.id,
        title=ann.title,
        text=ann.text,
        media_url=f"{base}/media/{ann.media.sha256}.{ann.media.ext}" if ann.media else None,
        start=ann.start,
        slot_id=ann.slot_id,
        targets=[t.zone_id or t.node_id or "" for t in ann.targets],
        level=ann.level,
        origin=ann.origin,
        approval=ann.approval,
        created_by=ann.created_by,
        submitted_at=ann.submitted_at,
        approved_by=ann.approved_by,
        approved_at=ann.approved_at,
        approval_comment=ann.approval_comment,
        visual=ann.visual,
    )


def approval_queue(
    session: SessionDep, scope: Scope, states: tuple[str, ...]
) -> list[Announcement]:
    query = (
        select(Announcement)
        .where(Announcement.approval.in_(states), Announcement.cancelled_at.is_(None))
        .order_by(Announcement.id.desc())
        .limit(500)
    )
    visible = visible_announcements(scope)
    if visible is not None:
        query = query.where(visible)
    return list(session.scalars(query))


@router.get("/approvals")
def list_approvals(
    session: SessionDep, ctl: ControllerDep, _: Viewer, scope: ScopeDep, all: bool = False
) -> list[ApprovalItemOut]:
    """Items held for approval in the caller's communes (``all``: also drafts, rejected
    and decided ones), newest first."""
    states = ("draft", "pending", "approved", "rejected") if all else ("pending",)
    base = ctl.settings.resolved_public_url
    return [item_out(a, base) for a in approval_queue(session, scope, states)]


def _held(session: SessionDep, scope: Scope, announcement_id: int) -> Announcement:
    ann = session.get(Announcement, announcement_id)
    if ann is None or ann.cancelled_at is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _MISSING)
    require_editable(scope, *announcement_targets(ann), _MISSING)
    return ann


def _step(
    session: SessionDep,
    ctl: ControllerDep,
    who: Principal,
    scope: Scope,
    request: Request,
    announcement_id: int,
    action: Action,
    comment: str | None = None,
) -> ApprovalItemOut:
    ann = _held(session, scope, announcement_id)
    try:
        apply(ann, action, who.username, ctl.clock.now(), comment)
    except ApprovalError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    audit_trail.add(
        session,
        ctl,
        who,
        request,
        f"announcement.{action}",
        f"announcement:{announcement_id}",
        (comment or "")[:200],
    )
    session.commit()
    ctl.publisher.refresh()
    return item_out(ann, ctl.settings.resolved_public_url)


@router.post("/approvals/{announcement_id}/approve")
def approve(
    announcement_id: AnnId,
    body: CommentIn,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    who: Approver,
    scope: ScopeDep,
) -> ApprovalItemOut:
    """Approve a pending item: from now on it reaches its nodes' playlists."""
    return _step(session, ctl, who, scope, request, announcement_id, "approve", body.comment)


@router.post("/approvals/{announcement_id}/reject")
def reject(
    announcement_id: AnnId,
    body: RejectIn,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    who: Approver,
    scope: ScopeDep,
) -> ApprovalItemOut:
    """Reject a pending item with a comment the operator sees; it never plays as it is."""
    return _step(session, ctl, who, scope, request, announcement_id, "reject", body.comment)


@router.post("/announcements/{announcement_id}/submit")
def submit(
    announcement_id: AnnId,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
) -> ApprovalItemOut:
    """Send a draft (or a rejected item) to the approvers."""
    return _step(session, ctl, who, scope, request, announcement_id, "submit")


@router.patch("/announcements/{announcement_id}")
async def edit_announcement(
    announcement_id: AnnId,
    body: EditIn,
    request: Request,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
) -> ApprovalItemOut:
    """Change text, title, start or e-board content (``visual``); an approved or rejected
    item goes back to approval."""

    def work() -> ApprovalItemOut:
        now = ctl.clock.now()
        with ctl.sessions() as session:
            ann = _held(session, scope, announcement_id)
            if body.start is not None:
                if body.start < now:
                    raise HTTPException(_422, "start is in the past")
                ann.start = body.start
            if body.title is not None:
                ann.title = body.title
            if body.text is not None and body.text != ann.text:
                zones, nodes = announcement_targets(ann)
                try:
                    rendered = ctl.renderer.render_text(
                        body.text, entries=entries_for_targets(session, zones, nodes)
                    )
                except AudioRejected as exc:
                    raise HTTPException(_422, str(exc)) from None
                except (AudioToolError, SynthesisFailed) as exc:
                    raise HTTPException(
                        status.HTTP_503_SERVICE_UNAVAILABLE, f"speech synthesis failed: {exc}"
                    ) from None
                ann.media = ensure_media(session, rendered, "tts", now)
                ann.text, ann.duration_s = body.text, rendered.duration_s
            changes = sorted(body.model_fields_set)
            if "visual" in body.model_fields_set:
                try:
                    visual.replace_visual(session, ann, body.visual)
                except visual.ImageRejected as exc:
                    raise HTTPException(_422, f"visual: {exc}") from None
            apply(ann, "edit", who.username, now)
            audit_trail.add(
                session,
                ctl,
                who,
                request,
                "announcement.edit",
                f"announcement:{announcement_id}",
                f"approval={ann.approval} changed={','.join(changes)}",
            )
            session.commit()
            out = item_out(ann, ctl.settings.resolved_public_url)
        ctl.publisher.refresh()
        return out

    return await run_in_threadpool(work)


@router.get("/approvals/emergencies")
def emergencies_to_review(
    session: SessionDep, _: Viewer, scope: ScopeDep, all: bool = False
) -> list[EmergencyReviewOut]:
    """Emergencies aired without approval, flagged for review (``all``: reviewed ones too)."""
    query = select(Emergency).order_by(Emergency.issued_at.desc()).limit(200)
    if not all:
        query = query.where(Emergency.needs_review.is_(True))
    return [_emergency_out(e) for e in session.scalars(query) if scope.sees(e.zone_ids, [])]


def _emergency_out(e: Emergency) -> EmergencyReviewOut:
    return EmergencyReviewOut.model_validate(e)


@router.post("/approvals/emergencies/{emergency_id}/review")
def review(
    emergency_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    body: CommentIn,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    who: Approver,
    scope: ScopeDep,
) -> EmergencyReviewOut:
    """Clear an emergency's "needs review" marker (after the fact: it has already aired)."""
    row = session.get(Emergency, emergency_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such emergency")
    require_visible(scope, row.zone_ids, [], "no such emergency")
    review_emergency(row, who.username, ctl.clock.now(), body.comment)
    audit_trail.add(
        session, ctl, who, request, "emergency.review", f"emergency:{emergency_id}", body.comment
    )
    session.commit()
    return _emergency_out(row)
