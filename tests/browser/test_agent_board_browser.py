"""A real agent with its e-board: controller (this process), Mosquitto, ``loa agent`` with
``display_port`` and Debian's headless Chromium on the agent's kiosk page.

An announcement airs → the board shows its title and the agent reports ``displayed``; an
emergency → the whole screen turns red (pixels checked) and that is reported too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser.conftest import new_tab
from browser.test_kiosk_browser import _share
from playwright.sync_api import Browser
from support.processes import wait_until
from support.served_controller import ServedController, board_agent, quick_settings

from controller.broker.process import MosquittoProcess, free_port
from protocol.clock import SystemClock

NODE, ZONE = "dong-an-1", "xa-dong-tien"


@pytest.fixture
def agent_board(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[tuple[str, str]]:
    """(controller url, kiosk url) with one agent online."""
    port, display = free_port(), free_port()
    settings = quick_settings(tmp_path, mosquitto.port, http_port=port)
    with ServedController(settings, SystemClock(), port=port) as served:
        with httpx.Client(base_url=served.url, timeout=60) as api:
            agent = board_agent(
                api, tmp_path, mosquitto.port, NODE, ZONE, display_port=str(display)
            )
        agent.start()
        try:
            yield served.url, f"http://127.0.0.1:{display}/"
        finally:
            agent.stop()


def _displayed(api: httpx.Client) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = api.get("/api/v1/playback-events").json()
    return [e for e in events if e["kind"] == "displayed"]


def test_agent_board_follows_the_air_and_turns_red_in_an_emergency(
    agent_board: tuple[str, str], browser: Browser, tmp_path: Path
) -> None:
    url, kiosk_url = agent_board
    with httpx.Client(base_url=url, timeout=60) as api, new_tab(browser, 1280, 720) as kiosk:
        wait_until(lambda: all(n["online"] for n in api.get("/api/v1/nodes").json()), 90)
        kiosk.goto(kiosk_url)
        start = (datetime.now(UTC) + timedelta(seconds=15)).isoformat()
        r = api.post(
            "/api/v1/announcements",
            json={"text": "Họp thôn lúc 14 giờ.", "title": "Họp thôn", "targets": [ZONE]}
            | {"start": start},
        )
        assert r.status_code == 201, r.text
        kiosk.wait_for_function(
            "document.getElementById('title').textContent === 'Họp thôn'", timeout=60_000
        )
        kiosk.screenshot(path=str(tmp_path / "agent-board-normal.png"))
        r = api.post("/api/v1/emergencies", json={"zones": [ZONE], "text": "Lũ quét, sơ tán ngay."})
        assert r.status_code == 201, r.text
        kiosk.wait_for_function("document.body.classList.contains('emergency')", timeout=60_000)
        shot = kiosk.screenshot(path=str(tmp_path / "agent-board-emergency.png"))
        assert _share(shot, lambda r, g, b: r > 180 and g < 40 and b < 40) > 0.7
        shown = wait_until(lambda: len(_displayed(api)) >= 2 and _displayed(api), 30)
    details = [e["detail"] for e in shown]
    assert any(d.startswith("Họp thôn") for d in details), details
    assert any(d.startswith("emergency: ") for d in details), details
