"""The printable monthly report per commune (planned vs played, by node)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from controller.db.models import Zone
from controller.panel.page import PanelNotFound, ViewerPage
from controller.panel.queries import monthly_report
from controller.panel.timefmt import today_local

router = APIRouter(prefix="/panel", include_in_schema=False)


def _month(value: str, fallback: date) -> date:
    try:
        return date.fromisoformat(f"{value}-01") if value else fallback.replace(day=1)
    except ValueError:
        return fallback.replace(day=1)


@router.get("/reports/monthly")
def monthly(page: ViewerPage, commune: str = "", month: str = "") -> HTMLResponse:
    now = page.ctl.clock.now()
    chosen = _month(month, today_local(now))
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        query = select(Zone).where(Zone.kind.in_(("xã", "commune", "phường", "thị trấn")))
        communes = [
            z for z in session.scalars(query.order_by(Zone.name)) if scope.allows_zone(z.id)
        ]
        if not communes:
            # Deployments may label levels differently: offer every zone in scope.
            communes = [
                z
                for z in session.scalars(select(Zone).order_by(Zone.name))
                if scope.allows_zone(z.id)
            ]
        report = None
        if commune:
            zone = session.get(Zone, commune)
            if zone is None or not scope.allows_zone(commune):
                raise PanelNotFound(commune)
            report = monthly_report.build(session, zone, chosen)
    return page.render(
        "report.html",
        communes=communes,
        commune=commune,
        month=chosen.strftime("%Y-%m"),
        report=report,
        now=now,
    )
