"""The week view of the programme per zone (read-only; edits go through announcements).

Recurring rules appear once, at their first start, until the ``schedules`` calendar is
wired into the controller.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from controller.auth.scope import Scope
from controller.panel.page import PanelNotFound, ViewerPage
from controller.panel.queries import announcements as ann_q
from controller.panel.queries import nodes as node_q
from controller.panel.timefmt import LOCAL, local_midnight_utc, today_local
from controller.services.zones import ZoneTree, nodes_reached

router = APIRouter(prefix="/panel", include_in_schema=False)


def _monday(value: str, today: date) -> date:
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    return day - timedelta(days=day.weekday())


@router.get("/schedule")
def week(page: ViewerPage, zone: str = "", start: str = "") -> HTMLResponse:
    today = today_local(page.ctl.clock.now())
    monday = _monday(start, today)
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        zones = node_q.zones_in_scope(session, scope)
        chosen = zone or (zones[0].id if zones else "")
        days: list[tuple[date, list[ann_q.Airing]]] = []
        if chosen:
            if not scope.allows_zone(chosen):
                raise PanelNotFound(chosen)
            tree = ZoneTree.load(session)
            below = tree.descendants_and_self(chosen)
            zone_scope = Scope(
                False, frozenset(below), frozenset(nodes_reached(session, tree, [chosen], []))
            )
            begin = local_midnight_utc(monday)
            airings = ann_q.airing_between(session, zone_scope, begin, begin + timedelta(days=7))
            for offset in range(7):
                day = monday + timedelta(days=offset)
                days.append((day, [a for a in airings if a.start.astimezone(LOCAL).date() == day]))
    return page.render(
        "schedule.html",
        zones=zones,
        zone=chosen,
        monday=monday,
        days=days,
        today=today,
        prev=(monday - timedelta(days=7)).isoformat(),
        next=(monday + timedelta(days=7)).isoformat(),
    )
