"""Issue 16 items 9-11 in real Chromium (desktop and a 360-px phone): the map (Leaflet over
tiles when they load, a named scaled layout when they do not, node states with a legend),
the calendar, and a Vietnamese panel with no English or jargon in what people read.
Screenshots go to docs/screenshots/ when LOA_SCREENSHOTS=1."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser.conftest import System, login
from playwright.sync_api import Page, Route, expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TILES = "**/tile.openstreetmap.org/**"
# a 1x1 green PNG: a "reachable" tile server without the internet
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
LONG = (
    "Kính thưa bà con, sáng mai bảy giờ có buổi tiêm phòng cho trâu bò tại nhà văn hóa bản. "
    "Đề nghị các hộ chăn nuôi đưa gia súc đến đúng giờ, mang theo sổ theo dõi."
)


def shot(page: Page, name: str) -> None:
    if os.environ.get("LOA_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def silent_node(system: System) -> Iterator[str]:
    """A speaker that has never connected (no agent): the map's "mất kết nối" state."""
    with system.controller.api() as api:
        r = api.post(
            "/api/v1/nodes",
            json={
                "id": "dong-an-2",
                "name": "Loa chợ Đồng An",
                "zone_id": "ban-dong-an",
                "lat": 21.5170,
                "lon": 106.1490,
            },
        )
        assert r.status_code == 201, r.text
    yield "dong-an-2"


def _labels_inside_the_map(page: Page) -> list[str]:
    """Labels (and dots) whose box leaves the map's box: cut at the edge."""
    return page.evaluate(
        """() => {
          const m = document.getElementById('map').getBoundingClientRect();
          return [...document.querySelectorAll('#map .map-label, #map .node-dot')]
            .filter(el => { const r = el.getBoundingClientRect();
              return r.left < m.left - 0.5 || r.right > m.right + 0.5 ||
                     r.top < m.top - 0.5 || r.bottom > m.bottom + 0.5; })
            .map(el => el.textContent || el.getAttribute('data-node'));
        }"""
    )


@pytest.mark.parametrize("width", [1100, 360])
def test_map_without_tiles_shows_a_named_layout_and_node_states(
    page: Page, system: System, silent_node: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    blocked: list[str] = []

    def abort(route: Route) -> None:
        blocked.append(route.request.url)
        route.abort()

    page.route(TILES, abort)
    login(page, system.url, "lan")
    with system.controller.api() as api:
        r = api.post("/api/v1/announcements", json={"text": LONG, "targets": ["ban-cay-thi"]})
        assert r.status_code == 201, r.text
    for _ in range(80):
        page.goto(f"{system.url}/panel/map")
        if page.locator("#map .node-dot.state-playing").count():
            break
        page.wait_for_timeout(500)
    playing = page.locator('#map .node-dot.state-playing[data-node="cay-thi-1"]')
    expect(playing).to_have_count(1)
    expect(page.locator("#map")).to_have_attribute("data-basemap", "offline")
    assert blocked, "the page never asked for a tile"
    expect(page.locator("#map-basemap")).to_contain_text("sơ đồ xã và thôn/bản")
    expect(page.locator('#map .node-dot.state-offline[data-node="dong-an-2"]')).to_have_count(1)
    expect(page.locator('#map .node-dot.state-online[data-node="dong-an-1"]')).to_have_count(1)
    expect(page.locator("#map img.leaflet-tile")).to_have_count(0)  # no broken tiles left
    areas = page.locator("#map .map-label.area")
    for name in ("Xã Đồng Tiến", "Bản Đồng An", "Bản Cây Thị"):
        expect(areas.filter(has_text=name)).to_have_count(1)
    expect(page.locator("#map .map-label.node").filter(has_text="Loa cay-thi-1")).to_contain_text(
        "Đang phát"
    )
    expect(page.locator("#map .map-label.node").filter(has_text="Loa chợ Đồng An")).to_contain_text(
        "Mất kết nối"
    )
    legend = page.locator(".map-legend")
    for word in ("Đang phát", "Đang kết nối", "Mất kết nối"):
        expect(legend).to_contain_text(word)
    expect(page.locator(".leaflet-control-scale")).to_be_visible()  # a scaled layout
    assert _labels_inside_the_map(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"map-offline-{width}")


def test_map_uses_tiles_when_they_load(page: Page, system: System, silent_node: str) -> None:
    page.route(TILES, lambda route: route.fulfill(body=PNG, content_type="image/png"))
    login(page, system.url, "minh")
    page.goto(f"{system.url}/panel/map")
    expect(page.locator("#map")).to_have_attribute("data-basemap", "online")
    expect(page.locator("#map img.leaflet-tile-loaded").first).to_be_visible()
    expect(page.locator("#map-basemap")).to_contain_text("OpenStreetMap")
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("OpenStreetMap")
    expect(page.locator("#map .map-label.area").filter(has_text="Xã Đồng Tiến")).to_have_count(1)
    assert _labels_inside_the_map(page) == []
