"""Slides reach an e-board ahead of time and show with the link cut (issue 21).

Real controller (this process), Mosquitto, ``loa agent`` with ``display_port`` and Debian's
headless Chromium on the agent's kiosk page. An announcement with two slides (and a third
whose bytes were tampered with on the controller) is published; the agent caches the two
good images, hash-verified, before the item is due and refuses the third. Then the
controller and the broker are stopped: when the item airs, the kiosk shows both slides in
turn from the agent's cache, and never the tampered one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from browser.conftest import new_tab
from browser.test_kiosk_browser import _share
from playwright.sync_api import Browser
from support.images import png
from support.processes import wait_until
from support.served_controller import ServedController, board_agent, quick_settings

from controller.broker.process import MosquittoProcess, free_port
from protocol.clock import SystemClock

NODE, ZONE = "vi-huong-1", "xa-vi-huong"
GREEN, BLUE = (20, 190, 40), (30, 60, 210)


def _upload(api: httpx.Client, data: bytes) -> dict[str, Any]:
    r = api.post("/api/v1/uploads/image", files={"file": ("s.png", data, "image/png")})
    assert r.status_code == 201, r.text
    image: dict[str, Any] = r.json()
    return image


def _verified(path: Path, sha256: str) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def test_agent_prefetches_slides_and_shows_them_with_the_link_cut(
    tmp_path: Path, mosquitto: MosquittoProcess, browser: Browser
) -> None:
    port, display = free_port(), free_port()
    settings = quick_settings(tmp_path, mosquitto.port, http_port=port)
    media = tmp_path / NODE / "media"
    with (
        ServedController(settings, SystemClock(), port=port) as served,
        httpx.Client(base_url=served.url, timeout=60) as api,
    ):
        agent = board_agent(
            api,
            tmp_path,
            mosquitto.port,
            NODE,
            ZONE,
            display_port=str(display),
        )
        agent.start()
        try:
            green = _upload(api, png(16, 9, GREEN))
            blue = _upload(api, png(16, 9, BLUE))
            signed = _upload(api, png(16, 9, (250, 250, 0)))
            stored = settings.media_dir / f"{signed['sha256']}.png"
            data = stored.read_bytes()  # swapped on the controller after signing
            stored.write_bytes(data[:40] + bytes([data[40] ^ 0xFF]) + data[41:])
            wait_until(lambda: all(n["online"] for n in api.get("/api/v1/nodes").json()), 90)
            start = datetime.now(UTC) + timedelta(seconds=40)
            slides = [{"image_sha256": i["sha256"], "duration_s": 1.5} for i in (green, blue)]
            r = api.post(
                "/api/v1/announcements",
                json={
                    "title": "Họp thôn",
                    "text": "Kính mời bà con bản Vi Hương họp tại nhà văn hoá lúc tám giờ "
                    "sáng mai để bàn việc làm đường liên thôn.",
                    "targets": [ZONE],
                    "start": start.isoformat(),
                    "visual": {
                        "slides": [
                            *slides,
                            {"image_sha256": signed["sha256"], "duration_s": 1.5},
                        ]
                    },
                },
            )
            assert r.status_code == 201, r.text
            wait_until(
                lambda: (
                    all(_verified(media / f"{i['sha256']}.png", i["sha256"]) for i in (green, blue))
                    and (any(media.glob("*.opus")) or any(media.glob("*.mp3")))
                ),
                35,
            )
            assert datetime.now(UTC) < start, "slides cached only after the item was due"
            log = tmp_path / f"{NODE}.log"
            wait_until(lambda: f"{signed['sha256']}.png: hash mismatch" in log.read_text(), 30)
            assert not list(media.glob(f"{signed['sha256']}*"))
        except BaseException:
            agent.stop()
            raise
    mosquitto.stop()  # the link is cut: no controller, no broker
    try:
        with new_tab(browser, 1280, 720) as kiosk:
            kiosk.goto(f"http://127.0.0.1:{display}/")
            kiosk.wait_for_function(
                "document.body.classList.contains('slides')",
                timeout=max(
                    60_000, int((start - datetime.now(UTC)).total_seconds() * 1000) + 30_000
                ),
            )
            state = kiosk.evaluate("fetch('/state.json').then(r => r.json())")
            assert state["title"] == "Họp thôn"
            assert [s["url"] for s in state["slides"]] == [
                f"/slides/{green['sha256']}.png",
                f"/slides/{blue['sha256']}.png",
            ]
            seen: dict[str, bytes] = {}
            for image in (green, blue):
                kiosk.wait_for_function(
                    "([src]) => { const i = document.getElementById('slide-img');"
                    " return i.src.endsWith(src) && i.complete && i.naturalWidth === 16; }",
                    arg=[f"{image['sha256']}.png"],
                    timeout=10_000,
                )
                seen[image["sha256"]] = kiosk.locator("#slide-img").screenshot(
                    path=str(tmp_path / f"slide-{image['sha256'][:8]}.png")
                )
            tampered = kiosk.request.get(
                f"http://127.0.0.1:{display}/slides/{signed['sha256']}.png"
            )
            assert tampered.status == 404
    finally:
        agent.stop()
    assert _share(seen[green["sha256"]], lambda r, g, b: g > 150 and r < 80 and b < 90) > 0.5
    assert _share(seen[blue["sha256"]], lambda r, g, b: b > 170 and r < 80 and g < 100) > 0.5
