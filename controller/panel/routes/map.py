"""The map: Leaflet (vendored, no CDN) over online tiles when they load, and always the
village/commune areas and node points with names, so it still reads with no internet."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from controller.db.models import Zone
from controller.panel.page import ViewerPage
from controller.panel.queries import map_layout
from controller.panel.queries import nodes as q

router = APIRouter(prefix="/panel", include_in_schema=False)


@router.get("/map")
def map_page(page: ViewerPage) -> HTMLResponse:
    with page.ctl.sessions() as session:
        nodes = q.list_nodes(session, page.scope(session), q.NodeFilter())
        zones = {z.id: z for z in session.scalars(select(Zone))}
        points, areas = map_layout.layout(nodes, zones)
    unplaced = [n for n in nodes if n.lat is None or n.lon is None]
    data = {
        "tiles": page.ctl.settings.panel_map_tile_url or "",
        "points": [asdict(p) | {"href": f"/panel/nodes/{p.id}"} for p in points],
        "areas": [asdict(a) for a in areas],
        "text": {
            **{s: page.t(f"map.state.{s}") for s in map_layout.STATES},
            "basemap_online": page.t("map.basemap.online"),
            "basemap_offline": page.t("map.basemap.offline"),
            "attribution": page.t("map.attribution"),
        },
    }
    return page.render("map.html", data=data, points=points, unplaced=unplaced)
