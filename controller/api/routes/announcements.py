"""Announcements: text → speech → playlists of every targeted node, published at once.

Without ``start`` an announcement plays "now" (``immediate_lead_s`` ahead), queued after
whatever of equal or higher priority is already planned on its nodes. With ``rule`` (a
``schedules`` rule with a time of day) it recurs; ``start`` is then ignored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from controller.api import audit_trail
from controller.api.deps import ControllerDep, Operator, SessionDep, Viewer
from controller.api.schemas import AnnouncementIn, AnnouncementOut
from controller.api.scoping import (
    ScopeDep,
    checked_targets,
    require_editable,
    visible_announcements,
)
from controller.db.models import Announcement
from controller.services import announcing, multilingual, visual
from controller.services.announcements import Targets, announcement_targets
from controller.services.announcing import (
    AnnouncementInputError,
    AnnouncementRequest,
    AuditWriter,
    Created,
)
from controller.services.container import Controller
from controller.services.quiet_guard import QuietHoursConflict
from controller.services.schedule_editing import (
    ScheduleInputError,
    build_entry,
    check_not_past,
    first_start,
)
from controller.services.visual import VisualIn
from schedules import OnceRule, ScheduleEntry, occurrences
from schedules.rules import Rule

router = APIRouter(prefix="/api/v1/announcements", tags=["announcements"])
_GRACE = timedelta(minutes=1)
_422 = status.HTTP_422_UNPROCESSABLE_CONTENT


class AnnouncementBody(AnnouncementIn):
    """``AnnouncementIn`` plus the calendar fields (all optional: old clients keep working)."""

    text: Annotated[str, Field(max_length=20_000)] = ""
    """Spoken, or with ``media_sha256`` only shown; one of the two is needed."""

    rule: dict[str, Any] | None = None
    repeat: Annotated[int, Field(ge=1, le=20)] = 1
    volume: Annotated[int, Field(ge=0, le=100)] | None = None
    valid_until: datetime | None = None
    draft: bool = False
    """In a commune that needs approval: keep it as a draft (else it goes to the approvers)."""
    internal: bool = False
    """Kept off the citizens' replay page and feed (announcements are public by default)."""
    media_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    """An uploaded recording (``POST /api/v1/uploads/audio``) to air instead of speech;
    ``text`` may then be empty (it is shown, not spoken)."""
    variants: list[VariantIn] = Field(default_factory=list, max_length=8)
    """Recordings in other languages, aired after Vietnamese where a zone asks for them."""
    visual: VisualIn | None = None
    """What e-boards show while it plays (board text defaults to ``text``); None: sound only."""


class VariantIn(BaseModel):
    """A recording in another language: upload it first (``POST /api/v1/uploads/audio``)."""

    model_config = ConfigDict(extra="forbid")

    language: Annotated[str, Field(pattern=r"^[a-z]{2,8}$")]
    media_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    text: Annotated[str, Field(max_length=20_000)] | None = None


def _triples(variants: list[VariantIn]) -> list[tuple[str, str, str | None]]:
    return [(v.language, v.media_sha256, v.text) for v in variants]


class AnnouncementPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    internal: bool


class AnnouncementView(AnnouncementOut):
    rule: dict[str, Any] | None = None
    repeat: int = 1
    volume: int | None = None
    valid_until: datetime | None = None
    cancelled: bool = False
    level: str = "normal"
    origin: str = "own"
    approval: str = "not_required"
    created_by: str | None = None
    approved_by: str | None = None
    approval_comment: str | None = None
    internal: bool = False
    languages: list[str] = Field(default_factory=list)
    """Vietnamese first, then the other recordings' languages."""
    visual: dict[str, Any] | None = None
    """E-board content as it goes to the nodes (None: sound only)."""


def _out(ann: Announcement, base_url: str, nodes: list[str]) -> AnnouncementView:
    return AnnouncementView(
        id=ann.id,
        title=ann.title,
        text=ann.text,
        kind=ann.kind,
        start=ann.start,
        duration_s=ann.duration_s,
        priority=ann.priority,
        media_url=f"{base_url}/media/{ann.media.sha256}.{ann.media.ext}" if ann.media else None,
        targets=[t.zone_id or t.node_id or "" for t in ann.targets],
        nodes=nodes,
        created_at=ann.created_at,
        rule=ann.rule,
        repeat=ann.repeat,
        volume=ann.volume,
        valid_until=ann.valid_until,
        cancelled=ann.cancelled_at is not None,
        level=ann.level,
        origin=ann.origin,
        approval=ann.approval,
        created_by=ann.created_by,
        approved_by=ann.approved_by,
        approval_comment=ann.approval_comment,
        internal=ann.internal,
        languages=["vi", *(v.language for v in ann.variants)],
        visual=ann.visual,
    )


@router.get("")
def list_announcements(
    session: SessionDep, ctl: ControllerDep, _: Viewer, scope: ScopeDep, limit: int = 100
) -> list[AnnouncementView]:
    """Newest first, only those reaching the caller's communes."""
    query = select(Announcement).order_by(Announcement.id.desc()).limit(min(max(limit, 1), 1000))
    visible = visible_announcements(scope)
    if visible is not None:
        query = query.where(visible)
    base = ctl.settings.resolved_public_url
    return [_out(a, base, []) for a in session.scalars(query)]


def _checked_rule(body: AnnouncementBody, targets: Targets, now: datetime) -> Rule | None:
    """Validate the recurrence with the calendar's own model; raise HTTP 422 with reasons."""
    if body.rule is None:
        return None
    data = {
        "id": "announcement",
        "kind": "tts",
        "title": body.title or "x",
        "text": body.text,
        "targets": {"zones": targets.zone_ids, "nodes": targets.node_ids},
        "rule": body.rule,
        "valid_until": body.valid_until,
    }
    try:
        entry: ScheduleEntry = build_entry(data)
        check_not_past(entry, now)
    except ScheduleInputError as exc:
        raise HTTPException(_422, exc.reason) from None
    if entry.slot is not None or entry.rule is None or entry.rule.time is None:
        raise HTTPException(_422, "rule: an announcement's rule needs a time of day")
    return entry.rule


def _first_occurrence(rule: Rule, now: datetime) -> datetime:
    if isinstance(rule, OnceRule):
        return first_start(rule)
    found = occurrences(rule, now, now + timedelta(days=400))
    if not found:
        raise HTTPException(_422, "rule: no occurrence in the coming year")
    return found[0]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_announcement(
    body: AnnouncementBody,
    request: Request,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
    session: SessionDep,
) -> AnnouncementView:
    """Render the text (or take the uploaded recording), store the announcement and publish
    the affected nodes' playlists."""
    targets = checked_targets(session, scope, body.targets)
    if body.valid_until is not None and body.valid_until.tzinfo is None:
        raise HTTPException(_422, "valid_until must include its UTC offset")
    now = ctl.clock.now()
    rule = _checked_rule(body, targets, now)
    req = AnnouncementRequest(
        targets=targets,
        text=body.text,
        media_sha256=body.media_sha256,
        start=body.start if rule is None else _first_occurrence(rule, now),
        title=body.title,
        priority=body.priority,
        rule=None if rule is None else rule.model_dump(mode="json"),
        repeat=body.repeat,
        volume=body.volume,
        valid_until=body.valid_until,
        internal=body.internal,
        draft=body.draft,
        visual=body.visual,
        variants=tuple(_triples(body.variants)),
    )

    def audit(s: Session, action: str, target: str, detail: str) -> None:
        audit_trail.add(s, ctl, who, request, action, target, detail)

    created = await run_in_threadpool(_create, ctl, req, who.username, audit)
    return _out(created.announcement, ctl.settings.resolved_public_url, created.nodes)


def _create(
    ctl: Controller, req: AnnouncementRequest, username: str, audit: AuditWriter
) -> Created:
    """The service's typed refusals as HTTP: 422 bad input, 409 quiet hours, 503 tools."""
    try:
        return announcing.create_announcement(ctl, req, created_by=username, audit=audit)
    except AnnouncementInputError as exc:
        raise HTTPException(_422, str(exc)) from None
    except AudioRejected as exc:
        raise HTTPException(_422, str(exc)) from None
    except visual.ImageRejected as exc:
        raise HTTPException(_422, f"visual: {exc}") from None
    except multilingual.VariantError as exc:
        raise HTTPException(_422, f"variants: {exc}") from None
    except QuietHoursConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except SynthesisFailed as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"speech synthesis failed: {exc}"
        ) from None
    except AudioToolError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"audio processing failed: {exc}"
        ) from None


@router.delete("/{announcement_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_announcement(
    announcement_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    request: Request,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
) -> None:
    """Cancel: the row stays for the log, every node gets a playlist without it.

    Only an announcement wholly inside the caller's communes (404 when it reaches none).
    """

    def work() -> None:
        with ctl.sessions() as session:
            ann = session.get(Announcement, announcement_id)
            if ann is None or ann.cancelled_at is not None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such announcement")
            require_editable(scope, *announcement_targets(ann), "no such announcement")
            ann.cancelled_at = ctl.clock.now()
            audit_trail.add(
                session,
                ctl,
                who,
                request,
                "announcement.cancel",
                f"announcement:{announcement_id}",
                ann.title[:200],
            )
            session.commit()
        ctl.publisher.refresh()

    await run_in_threadpool(work)


@router.put("/{announcement_id}/visibility")
async def set_visibility(
    announcement_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: AnnouncementPatch,
    request: Request,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
) -> AnnouncementView:
    """Mark an announcement internal (off the public replay) or public again.

    Only what is wholly inside the caller's communes; nothing is republished (playlists do
    not depend on it).
    """

    def work() -> AnnouncementView:
        with ctl.sessions() as session:
            ann = session.get(Announcement, announcement_id)
            if ann is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such announcement")
            require_editable(scope, *announcement_targets(ann), "no such announcement")
            ann.internal = body.internal
            audit_trail.add(
                session,
                ctl,
                who,
                request,
                "announcement.internal" if body.internal else "announcement.public",
                f"announcement:{announcement_id}",
                ann.title[:200],
            )
            session.commit()
            return _out(ann, ctl.settings.resolved_public_url, [])

    return await run_in_threadpool(work)
