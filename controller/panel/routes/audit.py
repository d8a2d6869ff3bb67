"""The audit log (admin): who did what and when, newest first, keyset-paged by id."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from controller.db.models import AuditEntry
from controller.panel.page import AdminPage

router = APIRouter(prefix="/panel", include_in_schema=False)
PAGE = 100


@router.get("/audit")
def audit_page(
    page: AdminPage, who: str = "", action: str = "", before: int | None = None
) -> HTMLResponse:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE + 1)
    if who:
        query = query.where(AuditEntry.username == who[:100])
    if action:
        query = query.where(AuditEntry.action.startswith(action[:60]))
    if before is not None:
        query = query.where(AuditEntry.id < before)
    with page.ctl.sessions() as session:
        rows = list(session.scalars(query))
    older = rows[PAGE - 1].id if len(rows) > PAGE else None
    return page.render("audit.html", rows=rows[:PAGE], who=who, action=action, older=older)
