"""Duyệt tin: approvers listen to held items and approve or reject them with a comment;
operators submit drafts and edit rejected items (back to approval); emergencies aired
without approval are reviewed here afterwards. Mirrors ``/api/v1/approvals``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from controller.db.models import Announcement, Emergency
from controller.panel.page import ApproverPage, OperatorPage, Page, PanelNotFound, ViewerPage
from controller.services.announcements import announcement_targets, ensure_media
from controller.services.approval import Action, ApprovalError
from controller.services.approvals import apply, review_emergency
from controller.services.pronunciation import entries_for_targets

router = APIRouter(prefix="/panel/approvals", include_in_schema=False)

HELD = ("draft", "pending", "rejected")


@router.get("")
def approvals_page(page: ViewerPage, done: str = "", error: str = "") -> HTMLResponse:
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        query = (
            select(Announcement)
            .where(Announcement.approval.in_(HELD), Announcement.cancelled_at.is_(None))
            .order_by(Announcement.id.desc())
            .limit(300)
        )
        items = [a for a in session.scalars(query) if scope.sees(*announcement_targets(a))]
        review = [
            e
            for e in session.scalars(
                select(Emergency)
                .where(Emergency.needs_review.is_(True))
                .order_by(Emergency.issued_at.desc())
                .limit(100)
            )
            if scope.sees(e.zone_ids, [])
        ]
        return page.render("approvals.html", items=items, review=review, done=done, error=error)


def held_announcement(page: Page, session: Session, announcement_id: int) -> Announcement:
    """A live announcement the caller's communes cover; PanelNotFound otherwise."""
    ann = session.get(Announcement, announcement_id)
    if ann is None or ann.cancelled_at is not None:
        raise PanelNotFound(f"announcement {announcement_id}")
    if not page.scope(session).allows_targets(*announcement_targets(ann)):
        raise PanelNotFound(f"announcement {announcement_id}")
    return ann


def _back(done: str = "", error: str = "") -> RedirectResponse:
    query = f"?error={quote(error)}" if error else f"?done={done}"
    return RedirectResponse(f"/panel/approvals{query}", status_code=303)


def _step(page: Page, announcement_id: int, action: Action, comment: str = "") -> RedirectResponse:
    with page.ctl.sessions() as session:
        ann = held_announcement(page, session, announcement_id)
        try:
            apply(ann, action, page.principal.username, page.ctl.clock.now(), comment)
        except ApprovalError as exc:
            return _back(error=str(exc))
        page.audit(
            session, f"announcement.{action}", f"announcement:{announcement_id}", comment[:200]
        )
        session.commit()
    page.ctl.publisher.refresh()
    return _back(action)


@router.post("/{announcement_id}/approve")
def approve(
    page: ApproverPage, announcement_id: int, comment: Annotated[str, Form()] = ""
) -> RedirectResponse:
    return _step(page, announcement_id, "approve", comment)


@router.post("/{announcement_id}/reject")
def reject(
    page: ApproverPage, announcement_id: int, comment: Annotated[str, Form()] = ""
) -> RedirectResponse:
    if not comment.strip():
        return _back(error=page.t("appr.comment_needed"))
    return _step(page, announcement_id, "reject", comment)


@router.post("/{announcement_id}/submit")
def submit(page: OperatorPage, announcement_id: int) -> RedirectResponse:
    return _step(page, announcement_id, "submit")


@router.post("/{announcement_id}/edit")
async def edit(
    page: OperatorPage, announcement_id: int, text: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """New text, rendered again; the item goes back to approval."""

    def work() -> RedirectResponse:
        now = page.ctl.clock.now()
        with page.ctl.sessions() as session:
            ann = held_announcement(page, session, announcement_id)
            if not text.strip():
                return _back(error=page.t("ann.error_text"))
            if text != ann.text:
                zones, nodes = announcement_targets(ann)
                try:
                    rendered = page.ctl.renderer.render_text(
                        text, entries=entries_for_targets(session, zones, nodes)
                    )
                except (AudioRejected, AudioToolError, SynthesisFailed) as exc:
                    return _back(error=str(exc))
                ann.media = ensure_media(session, rendered, "tts", now)
                ann.text, ann.duration_s = text, rendered.duration_s
            apply(ann, "edit", page.principal.username, now)
            page.audit(session, "announcement.edit", f"announcement:{announcement_id}", text[:200])
            session.commit()
        page.ctl.publisher.refresh()
        return _back("edit")

    return await run_in_threadpool(work)


@router.post("/emergencies/{emergency_id}/review")
def review(
    page: ApproverPage, emergency_id: str, comment: Annotated[str, Form()] = ""
) -> RedirectResponse:
    with page.ctl.sessions() as session:
        row = session.get(Emergency, emergency_id)
        if row is None or not page.scope(session).sees(row.zone_ids, []):
            raise PanelNotFound(f"emergency {emergency_id}")
        review_emergency(row, page.principal.username, page.ctl.clock.now(), comment)
        page.audit(session, "emergency.review", f"emergency:{emergency_id}", comment[:200])
        session.commit()
    return _back("review")
