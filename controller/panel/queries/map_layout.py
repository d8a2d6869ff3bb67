"""What the map draws: node points with their state, and village/commune areas built from
the node positions, so the map still shows a scaled layout with names when no basemap
tile can be fetched (a commune office on a flaky 3G link).

Zones carry no geometry, so an area is a circle around its nodes' centre that covers every
node of the zone plus a margin; the browser (Leaflet, vendored) draws it under the points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.db.models import Node, Zone
from controller.ops.metrics import commune_of
from controller.panel.queries.nodes import is_playing

STATES = ("playing", "online", "offline")
MARGIN_M = 250.0  # a village area reaches this far past its outermost node
MIN_RADIUS_M = 300.0


@dataclass(frozen=True)
class Point:
    id: str
    name: str
    lat: float
    lon: float
    state: str
    village: str


@dataclass(frozen=True)
class Area:
    zone_id: str
    name: str
    kind: str  # "commune" or "village"
    lat: float
    lon: float
    radius_m: float


def node_state(node: Node) -> str:
    """``playing`` before ``online``: a speaker on air is what an operator looks for first."""
    if is_playing(node):
        return "playing"
    return "online" if node.online else "offline"


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); metres are enough at commune scale."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _area(zone_id: str, name: str, kind: str, members: list[Point]) -> Area:
    lat = sum(p.lat for p in members) / len(members)
    lon = sum(p.lon for p in members) / len(members)
    reach = max(distance_m(lat, lon, p.lat, p.lon) for p in members)
    return Area(zone_id, name, kind, lat, lon, max(reach + MARGIN_M, MIN_RADIUS_M))


def layout(nodes: list[Node], zones: dict[str, Zone]) -> tuple[list[Point], list[Area]]:
    """Placed nodes as points and the areas (communes first, drawn under villages); a
    commune's circle holds its villages' circles."""
    tree = {z.id: (z.parent_id, z.kind) for z in zones.values()}
    zone_names = {z.id: z.name for z in zones.values()}
    points: list[Point] = []
    by_village: dict[str, list[Point]] = {}
    by_commune: dict[str, list[Point]] = {}
    for n in nodes:
        if n.lat is None or n.lon is None:
            continue
        village = zone_names.get(n.zone_id, n.zone_id)
        point = Point(n.id, n.name, n.lat, n.lon, node_state(n), village)
        points.append(point)
        by_village.setdefault(n.zone_id, []).append(point)
        by_commune.setdefault(commune_of(n.zone_id, tree), []).append(point)
    villages = {
        z: _area(z, zone_names.get(z, z), "village", members)
        for z, members in by_village.items()
        if z not in by_commune
    }
    communes = []
    for z, members in by_commune.items():
        ring = _area(z, zone_names.get(z, z), "commune", members)
        inside = [v for v in villages.values() if commune_of(v.zone_id, tree) == z]
        reach = max(
            [ring.radius_m]
            + [distance_m(ring.lat, ring.lon, v.lat, v.lon) + v.radius_m + 100 for v in inside]
        )
        communes.append(Area(z, ring.name, "commune", ring.lat, ring.lon, reach))
    return points, communes + list(villages.values())
