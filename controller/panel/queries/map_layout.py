"""Node positions as plain SVG (Web Mercator pixels): works offline, tiles optional.

With a tile URL template (``{z}/{x}/{y}``) the same pixel grid lines up with XYZ tiles, so
the dots sit on the map; without one, the dots sit on a light grid with their names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.db.models import Node

TILE = 256
MAX_W, MAX_H = 900.0, 560.0
PAD = 40.0


@dataclass(frozen=True)
class Dot:
    node: Node
    x: float
    y: float


@dataclass(frozen=True)
class Tile:
    url: str
    x: float
    y: float


@dataclass(frozen=True)
class MapLayout:
    view_box: str
    dots: list[Dot]
    tiles: list[Tile]
    zoom: int


def _pixel(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    scale = TILE * 2**zoom
    lat = max(min(lat, 85.0), -85.0)
    x = (lon + 180.0) / 360.0 * scale
    rad = math.radians(lat)
    y = (1.0 - math.log(math.tan(rad) + 1.0 / math.cos(rad)) / math.pi) / 2.0 * scale
    return x, y


def _fit_zoom(nodes: list[Node]) -> int:
    for zoom in range(17, 3, -1):
        xs, ys = zip(*(_pixel(n.lat or 0, n.lon or 0, zoom) for n in nodes), strict=True)
        if max(xs) - min(xs) <= MAX_W and max(ys) - min(ys) <= MAX_H:
            return zoom
    return 4


def layout(nodes: list[Node], tile_url: str | None) -> MapLayout | None:
    placed = [n for n in nodes if n.lat is not None and n.lon is not None]
    if not placed:
        return None
    zoom = _fit_zoom(placed)
    dots = [Dot(n, *_pixel(n.lat or 0, n.lon or 0, zoom)) for n in placed]
    min_x = min(d.x for d in dots) - PAD
    min_y = min(d.y for d in dots) - PAD
    width = max(max(d.x for d in dots) - min_x + PAD, 200.0)
    height = max(max(d.y for d in dots) - min_y + PAD, 150.0)
    tiles: list[Tile] = []
    if tile_url:
        for tx in range(int(min_x // TILE), int((min_x + width) // TILE) + 1):
            for ty in range(int(min_y // TILE), int((min_y + height) // TILE) + 1):
                url = tile_url.replace("{z}", str(zoom)).replace("{x}", str(tx))
                tiles.append(Tile(url.replace("{y}", str(ty)), tx * TILE, ty * TILE))
    view_box = f"{min_x:.1f} {min_y:.1f} {width:.1f} {height:.1f}"
    return MapLayout(view_box, dots, tiles, zoom)
