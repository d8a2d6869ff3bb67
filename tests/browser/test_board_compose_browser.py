"""The compose page's e-board section in headless Chromium: an operator types the text,
adds one slide and previews the board, which is the agent's own kiosk page showing that text
and slide from this controller only; sending stores the board with the announcement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser.conftest import PASSWORD, login, new_tab
from playwright.sync_api import Browser
from support import images
from support.served_controller import ServedController, quick_settings

from controller.broker.process import MosquittoProcess
from protocol.clock import SystemClock

TEXT = "Kính mời bà con thôn Đồng An họp lúc 14 giờ tại nhà văn hóa."
TICKER = "Lịch tiêm chủng tháng 12"


@pytest.fixture
def served(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[str]:
    settings = quick_settings(tmp_path, mosquitto.port, data="ctl")
    with ServedController(settings, SystemClock()) as ctl, httpx.Client(base_url=ctl.url) as api:
        r = api.post("/api/v1/zones", json={"id": "xa-dong-tien", "name": "Xã Đồng Tiến"})
        assert r.status_code == 201, r.text
        user = {"username": "lan", "password": PASSWORD, "role": "operator"}
        user |= {"communes": ["xa-dong-tien"], "must_change_password": False}
        assert api.post("/api/v1/users", json=user).status_code == 201
        yield ctl.url


def test_compose_text_and_a_slide_then_preview_and_send(
    served: str, browser: Browser, tmp_path: Path
) -> None:
    slide = images.png(64, 36, (20, 160, 60))
    with new_tab(browser, 1100, 900) as page:
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        login(page, served, "lan")
        page.goto(f"{served}/panel/announcements/new")
        page.fill("#text", TEXT)
        page.check("#board_on")  # the board's fields show once it is switched on
        page.fill("#board_ticker", TICKER)
        page.fill("#board_duration", "5")
        page.set_input_files(
            "#board_file", {"name": "lich.png", "mimeType": "image/png", "buffer": slide}
        )
        page.click("#board-upload")
        page.wait_for_function(
            "JSON.parse(document.getElementById('board_slides').value || '[]').length === 1"
        )
        assert "1" in page.inner_text("#board-status")
        page.click("#board-preview")
        board = page.frame_locator("#board-frame")
        board.locator("body[data-version='1']").wait_for()
        assert board.locator("#text").inner_text() == TEXT
        assert board.locator("#ticker-text").inner_text() == TICKER
        img = board.locator("#slide-img")
        img.wait_for()
        page.wait_for_function(
            "document.getElementById('board-frame').contentDocument"
            ".getElementById('slide-img').naturalWidth === 64"
        )
        assert board.locator("#slide").is_visible()
        assert all(u.startswith(served) for u in requests), requests  # nothing external
        page.locator("#board-section").screenshot(path=str(tmp_path / "compose-board.png"))

        page.check("#t-xa-dong-tien")
        page.click("#send")
        page.wait_for_url("**/panel/announcements?created=*")
    with httpx.Client(base_url=served) as api:
        (ann,) = api.get("/api/v1/announcements").json()
    assert ann["visual"]["text"] == TEXT and ann["visual"]["ticker"] == TICKER
    (shown,) = ann["visual"]["slides"]
    assert (shown["image"]["size"], shown["duration_s"]) == (len(slide), 5.0)
