"""The map of node positions (plain SVG, no internet needed)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from controller.panel.page import ViewerPage
from controller.panel.queries import map_layout
from controller.panel.queries import nodes as q

router = APIRouter(prefix="/panel", include_in_schema=False)


@router.get("/map")
def map_page(page: ViewerPage) -> HTMLResponse:
    with page.ctl.sessions() as session:
        nodes = q.list_nodes(session, page.scope(session), q.NodeFilter())
    drawn = map_layout.layout(nodes, page.ctl.settings.panel_map_tile_url)
    unplaced = [n for n in nodes if n.lat is None or n.lon is None]
    return page.render("map.html", layout=drawn, unplaced=unplaced)
