"""What a CAP alert becomes: an emergency broadcast, an announcement, or nothing. Pure logic.

Only info blocks in Vietnamese (``vi-VN``/``vi``) are read — the loudspeakers speak
Vietnamese. A block is an *emergency* when it is urgent (Immediate/Expected), serious
(Extreme/Severe) and probable (Observed/Likely); anything else is an ordinary announcement.
Several Vietnamese blocks make one broadcast: the most serious kind, all their zones.

Areas reach zones two ways: a ``geocode`` listed in the ``zone_geocodes`` table, or a
polygon/circle containing a node's coordinates (the node's home zone is then reached).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from controller.upstream_alerts.model import CapAlert, CapArea, CapInfo, Point

URGENT = frozenset({"Immediate", "Expected"})
SERIOUS = frozenset({"Extreme", "Severe"})
PROBABLE = frozenset({"Observed", "Likely"})
EARTH_RADIUS_KM = 6371.0


class BroadcastKind(StrEnum):
    EMERGENCY = "emergency"
    ANNOUNCEMENT = "announcement"


def classify(info: CapInfo) -> BroadcastKind:
    if info.urgency in URGENT and info.severity in SERIOUS and info.certainty in PROBABLE:
        return BroadcastKind.EMERGENCY
    return BroadcastKind.ANNOUNCEMENT


@dataclass(frozen=True)
class ZoneMap:
    """Where zones are: geocode → zones, and each located node's (home zone, point)."""

    geocodes: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    node_points: list[tuple[str, Point]] = field(default_factory=list)

    def zones_for(self, area: CapArea) -> set[str]:
        zones: set[str] = set()
        for code in area.geocodes:
            zones |= self.geocodes.get(code, set())
        for zone_id, point in self.node_points:
            if zone_id in zones:
                continue
            if any(point_in_polygon(point, poly) for poly in area.polygons) or any(
                within_circle(point, circle) for circle in area.circles
            ):
                zones.add(zone_id)
        return zones


@dataclass(frozen=True)
class Decision:
    kind: BroadcastKind
    zones: list[str]
    title: str
    text: str
    expires: datetime | None


def decide(alert: CapAlert, zone_map: ZoneMap) -> Decision | None:
    """The broadcast for an alert's Vietnamese blocks; None if there is none to read."""
    infos = [i for i in alert.infos if i.is_vietnamese]
    if not infos:
        return None
    kinds = {classify(i) for i in infos}
    kind = BroadcastKind.EMERGENCY if BroadcastKind.EMERGENCY in kinds else kinds.pop()
    zones = sorted({z for i in infos for a in i.areas for z in zone_map.zones_for(a)})
    texts = list(dict.fromkeys(i.spoken_text for i in infos if i.spoken_text))
    title = infos[0].headline or infos[0].event
    return Decision(kind, zones, title[:500], "\n".join(texts), alert.expires())


def point_in_polygon(point: Point, polygon: Iterable[Point]) -> bool:
    """Even-odd ray casting on (lat, lon); fine at commune scale, away from the antimeridian."""
    lat, lon = point
    inside = False
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(polygon):
        if (lon1 > lon) != (lon2 > lon):
            cross = lat1 + (lon - lon1) * (lat2 - lat1) / (lon2 - lon1)
            if lat < cross:
                inside = not inside
    return inside


def within_circle(point: Point, circle: tuple[Point, float]) -> bool:
    (lat1, lon1), ((lat2, lon2), radius_km) = point, circle
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h))) <= radius_km
