"""The citizens' replay page on a 360-px phone in headless Chromium: no sideways scrolling,
readable type, the emergency first and a player per bulletin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from browser.conftest import new_tab
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from controller.app import create_app
from controller.config import ControllerSettings
from controller.services.announcements import Targets, create_text_announcement
from controller.services.seed import seed_demo
from protocol.models import Priority


@pytest.fixture
def replay_html(tmp_path: Path) -> Iterator[str]:
    settings = ControllerSettings(
        data_dir=tmp_path / "ctl",
        tts_engine_order=["espeak-ng"],
        scheduler_enabled=False,
        api_anonymous_admin=True,
    )
    app = create_app(settings, start_services=False)
    with TestClient(app) as client:
        ctl = app.state.controller
        with ctl.sessions.begin() as session:
            seed_demo(session, ctl.clock.now())
        for text, priority in (
            ("Kính mời bà con thôn Đồng An họp lúc 14 giờ chiều nay tại nhà văn hóa.", 2),
            ("Lũ quét trên suối Khe Ngọ: bà con ven suối di chuyển lên vùng cao ngay.", 3),
        ):
            now = ctl.clock.now()
            with ctl.sessions.begin() as session:  # aired earlier today (no broker here)
                create_text_announcement(
                    session,
                    ctl.renderer,
                    text=text,
                    targets=Targets(["ban-dong-an"], []),
                    start=now - timedelta(minutes=30 * priority),
                    now=now,
                    priority=Priority(priority),
                )
        page = client.get("/public/xa-dong-tien/")
        assert page.status_code == 200
        yield page.text


def test_replay_page_fits_a_360_px_phone(
    replay_html: str, browser: Browser, tmp_path: Path
) -> None:
    with new_tab(browser, 360, 740) as phone:
        phone.set_content(replay_html)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        size = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 16
        articles = phone.locator("article")
        assert articles.count() == 2
        assert "emergency" in (articles.nth(0).get_attribute("class") or "")
        assert "Lũ quét" in articles.nth(0).inner_text()
        assert phone.locator("audio").count() == 2
        phone.screenshot(path=str(tmp_path / "replay-phone.png"), full_page=True)
