"""The map's areas and states (controller/panel/queries/map_layout.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from controller.db.models import Node, Zone
from controller.panel.queries.map_layout import distance_m, layout, node_state

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _zones() -> dict[str, Zone]:
    rows = [
        Zone(id="tinh", name="Tỉnh Bắc Ninh", kind="tỉnh", parent_id=None, created_at=NOW),
        Zone(id="xa", name="Xã Đồng Tiến", kind="xã", parent_id="tinh", created_at=NOW),
        Zone(id="ban-a", name="Bản Đồng An", kind="bản", parent_id="xa", created_at=NOW),
        Zone(id="ban-b", name="Bản Cây Thị", kind="bản", parent_id="xa", created_at=NOW),
    ]
    return {z.id: z for z in rows}


def _node(node_id: str, zone: str, lat: float | None, lon: float | None, **kw: object) -> Node:
    return Node(id=node_id, name=f"Loa {node_id}", zone_id=zone, lat=lat, lon=lon, **kw)


def test_states_put_playing_before_online_and_never_connected_is_offline() -> None:
    playing = _node("a", "ban-a", 1, 1, online=True, last_heartbeat={"current_item": "ann-1"})
    idle = _node("b", "ban-a", 1, 1, online=True, last_heartbeat={"current_item": None})
    # a stale heartbeat that still names an item does not make an offline node "playing"
    gone = _node("c", "ban-a", 1, 1, online=False, last_heartbeat={"current_item": "ann-1"})
    assert [node_state(n) for n in (playing, idle, gone)] == ["playing", "online", "offline"]


def test_areas_are_the_commune_and_its_villages_each_holding_its_nodes() -> None:
    nodes = [
        _node("a1", "ban-a", 21.5190, 106.1460, online=True),
        _node("a2", "ban-a", 21.5170, 106.1490, online=False),
        _node("b1", "ban-b", 21.5262, 106.1391, online=True),
        _node("nowhere", "ban-b", None, None),
    ]
    points, areas = layout(nodes, _zones())
    assert [p.id for p in points] == ["a1", "a2", "b1"]  # unplaced nodes are listed elsewhere
    assert {p.id: p.village for p in points}["b1"] == "Bản Cây Thị"
    # the commune (not the province at the top of the tree) first, drawn under its villages
    assert [(a.name, a.kind) for a in areas] == [
        ("Xã Đồng Tiến", "commune"),
        ("Bản Đồng An", "village"),
        ("Bản Cây Thị", "village"),
    ]
    by_zone = {a.zone_id: a for a in areas}
    for p in points:
        village = by_zone["ban-a" if p.id.startswith("a") else "ban-b"]
        assert distance_m(village.lat, village.lon, p.lat, p.lon) < village.radius_m
    commune = by_zone["xa"]
    for v in (by_zone["ban-a"], by_zone["ban-b"]):
        assert distance_m(commune.lat, commune.lon, v.lat, v.lon) + v.radius_m < commune.radius_m
    assert by_zone["ban-b"].radius_m >= 300  # a one-node village still has a visible area


def test_leaflet_is_vendored_with_its_licence_and_no_page_loads_a_cdn() -> None:
    from pathlib import Path

    panel = Path(__file__).resolve().parents[3] / "controller" / "panel"
    vendor = panel / "static" / "vendor" / "leaflet"
    assert sorted(p.name for p in vendor.iterdir()) == ["LICENSE", "leaflet.css", "leaflet.js"]
    assert (
        "BSD 2-Clause" in (vendor / "LICENSE").read_text()
        and "Leaflet 1.9.4" in (vendor / "leaflet.js").read_text()[:300]
    )
    for template in (panel / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert 'src="http' not in text and 'href="http' not in text, template.name
