"""The "Phát trực tiếp" page: pick zones, speak into the browser's microphone, end it.

The page itself only renders; the browser drives ``/api/v1/live`` with the panel session
and CSRF header (``static/broadcast.js``). Without Icecast the button is disabled and the
reason is shown.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from controller.panel.page import OperatorPage
from controller.panel.queries import nodes as q
from controller.services.live import live_desk

router = APIRouter(prefix="/panel", include_in_schema=False)


@router.get("/broadcast")
def broadcast_page(page: OperatorPage) -> HTMLResponse:
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        zones = q.zones_in_scope(session, scope)
    desk = live_desk(page.ctl)
    current = desk.active()
    return page.render(
        "broadcast.html",
        zones=zones,
        unavailable=desk.unavailable_reason(),
        current=current if current and scope.allows_targets(current.zones, []) else None,
    )
