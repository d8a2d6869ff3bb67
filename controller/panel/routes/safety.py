"""Horn safety in the panel: zones' volume caps and quiet hours, a node's own cap.

Anyone may read them (viewers see their communes' zones); only admins change them, as in
the JSON API (``PATCH /api/v1/zones/{id}``, ``/nodes/{id}``): a cap binds every node below.
Saving republishes the reached nodes' playlists, which carry the cap and windows to agents.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from controller.db.models import Node, Zone
from controller.panel.page import AdminPage, Page, PanelNotFound, ViewerPage
from controller.panel.queries import nodes as q
from controller.services.zones import ZoneTree, nodes_reached
from protocol.quiet_hours import QuietHoursError, format_quiet_hours, parse_quiet_hours

router = APIRouter(prefix="/panel", include_in_schema=False)


class SafetyFormError(ValueError):
    """A cap or quiet-hours field the panel cannot store (message: i18n key)."""


def _cap(text: str) -> int | None:
    """Blank = no cap; else a whole number 0-100."""
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 0 <= int(text) <= 100:
        raise SafetyFormError("safety.error_cap")
    return int(text)


def _render(page: Page, status_code: int = 200, error: str = "", saved: str = "") -> Response:
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        zones = q.zones_in_scope(session, scope)
    return page.render("zones.html", status_code, zones=zones, error=error, saved=saved)


@router.get("/zones")
def zones_page(page: ViewerPage, saved: str = "") -> Response:
    return _render(page, saved=saved[:64])


@router.post("/zones/{zone_id}/safety")
async def save_zone(
    page: AdminPage,
    zone_id: str,
    volume_cap: Annotated[str, Form(max_length=8)] = "",
    quiet_hours: Annotated[str, Form(max_length=200)] = "",
    needs_approval: Annotated[str, Form(max_length=8)] = "",
    approval_shown: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """A zone's volume cap, quiet hours and "needs approval" (the checkbox counts only when
    the form showed it: an unticked box sends nothing)."""
    try:
        cap = _cap(volume_cap)
        quiet = format_quiet_hours(parse_quiet_hours(quiet_hours)) or None
    except SafetyFormError as exc:
        return _render(page, 422, error=page.t(str(exc)))
    except QuietHoursError as exc:
        return _render(page, 422, error=page.t("safety.error_quiet", reason=str(exc)))

    def work() -> list[str]:
        with page.ctl.sessions.begin() as session:
            zone = session.get(Zone, zone_id)
            if zone is None:
                raise PanelNotFound(zone_id)
            zone.volume_cap, zone.quiet_hours = cap, quiet
            if approval_shown:
                zone.needs_approval = needs_approval == "1"
            page.audit(
                session,
                "zone.safety",
                f"zone:{zone_id}",
                f"needs_approval={zone.needs_approval} volume_cap={cap} quiet_hours={quiet}",
            )
            return sorted(nodes_reached(session, ZoneTree.load(session), [zone_id], []))

    nodes = await run_in_threadpool(work)
    if nodes:
        await run_in_threadpool(page.ctl.publisher.refresh, nodes)
    return RedirectResponse(f"/panel/zones?saved={zone_id}", status_code=303)


@router.post("/nodes/{node_id}/safety")
async def save_node(
    page: AdminPage, node_id: str, volume_cap: Annotated[str, Form(max_length=8)] = ""
) -> Response:
    try:
        cap = _cap(volume_cap)
    except SafetyFormError as exc:
        return _render(page, 422, error=page.t(str(exc)))

    def work() -> None:
        with page.ctl.sessions.begin() as session:
            node = session.get(Node, node_id)
            if node is None:
                raise PanelNotFound(node_id)
            node.volume_cap = cap
            page.audit(session, "node.safety", f"node:{node_id}", f"volume_cap={cap}")

    await run_in_threadpool(work)
    await run_in_threadpool(page.ctl.publisher.refresh, [node_id])
    return RedirectResponse(f"/panel/nodes/{node_id}#horn-safety", status_code=303)
