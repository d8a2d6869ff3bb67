"""The dashboard: counts, on air now / next, failures, alerts, today's programme.

The page polls ``/panel/live`` every 15 s and swaps the fragment in (no full reload).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from controller.panel.log_view import shown
from controller.panel.page import ViewerPage
from controller.panel.queries import dashboard
from controller.panel.queries.playback_log import LogRow

router = APIRouter(prefix="/panel", include_in_schema=False)


def _data(page: ViewerPage) -> dict[str, Any]:
    with page.ctl.sessions() as session:
        board = dashboard.build(session, page.scope(session), page.ctl.clock.now())
        rows = [
            LogRow(
                e.id, e.at, e.node_id, e.kind, e.item_id, e.command_id, e.playlist_version, e.detail
            )
            for e in board.failures
        ]
        failures = shown(session, page.t, rows)  # names and details as in the log
    return {"board": board, "failures": failures, "now": page.ctl.clock.now()}


@router.get("/")
def dashboard_page(page: ViewerPage) -> HTMLResponse:
    return page.render("dashboard.html", **_data(page))


@router.get("/live")
def dashboard_live(page: ViewerPage) -> HTMLResponse:
    return page.render("dashboard_live.html", **_data(page))
