"""Issue 21 panel pages in headless Chromium: a zone's languages in airing order, a
recording in another language added to a sent announcement, and its e-board content changed
after creation; each back through approval where approval applies, and audited.

Screenshots go to docs/screenshots/ when LOA_SCREENSHOTS=1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from browser.conftest import PASSWORD, login, new_tab
from playwright.sync_api import Browser, Page
from sqlalchemy import select
from support import images
from support.audio_files import mp3_tone
from support.served_controller import ServedController, quick_settings

from controller.broker.process import MosquittoProcess
from controller.db.models import Announcement, AuditEntry
from controller.services.container import Controller
from protocol.clock import SystemClock

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
COMMUNE, VILLAGE, OTHER = "xa-vi-huong", "thon-ban-chang", "xa-dong-tien"


@dataclass
class Served:
    url: str
    ctl: Controller
    api: httpx.Client


def _shot(page: Page, name: str) -> None:
    if os.environ.get("LOA_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def served(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Served]:
    settings = quick_settings(tmp_path, mosquitto.port, data="ctl")
    with (
        ServedController(settings, SystemClock()) as server,
        httpx.Client(base_url=server.url, timeout=60) as api,
    ):
        zones = [
            (COMMUNE, "Xã Vi Hương", "xã", None),
            (VILLAGE, "Thôn Bản Chang", "thôn", COMMUNE),
            (OTHER, "Xã Đồng Tiến", "xã", None),
        ]
        for zone_id, name, kind, parent in zones:
            body = {"id": zone_id, "name": name, "kind": kind, "parent_id": parent}
            assert api.post("/api/v1/zones", json=body).status_code == 201
        node = {"id": "ban-chang-1", "name": "Loa Bản Chang", "zone_id": VILLAGE}
        assert api.post("/api/v1/nodes", json=node).status_code == 201
        for username, role, commune in (
            ("lan", "operator", COMMUNE),
            ("minh", "viewer", COMMUNE),
            ("hoa", "operator", OTHER),
        ):
            user: dict[str, object] = {"username": username, "password": PASSWORD}
            user |= {"role": role, "communes": [commune], "must_change_password": False}
            assert api.post("/api/v1/users", json=user).status_code == 201
        yield Served(server.url, server.ctl, api)


def _announcement(served: Served, needs_approval: bool) -> int:
    patch = {"needs_approval": needs_approval}
    assert served.api.patch(f"/api/v1/zones/{COMMUNE}", json=patch).status_code == 200
    start = (served.ctl.clock.now() + timedelta(hours=2)).isoformat()
    body = {"text": "Kính mời bà con họp thôn.", "title": "Họp thôn", "targets": [VILLAGE]}
    r = served.api.post("/api/v1/announcements", json=body | {"start": start})
    assert r.status_code == 201, r.text
    ann = int(r.json()["id"])
    if needs_approval:
        r = served.api.post(f"/api/v1/approvals/{ann}/approve", json={})
        assert r.json()["approval"] == "approved", r.text
    return ann


def _audit(served: Served, action: str, target: str) -> list[str]:
    with served.ctl.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == action, AuditEntry.target == target)
        return [f"{e.username}: {e.detail}" for e in session.scalars(query)]


def test_zone_languages_page_sets_the_order_in_scope(served: Served, browser: Browser) -> None:
    path = f"/panel/zones/{COMMUNE}/languages"
    with new_tab(browser, 1100, 800) as page:
        login(page, served.url, "lan")
        page.goto(f"{served.url}{path}")
        assert page.inner_text("#effective").endswith("Tiếng Việt")
        page.uncheck("#inherit")
        page.select_option("#lang-1", "vi")
        page.select_option("#lang-2", "tay")
        page.click("#zone-languages-save")
        page.locator("#zone-langs-saved").wait_for()
        assert "Tiếng Việt → Tiếng Tày" in page.inner_text("#effective")
        _shot(page, "zone-languages")
        page.select_option("#lang-3", "tay")  # twice: refused, nothing changed
        page.click("#zone-languages-save")
        assert "không chọn trùng" in page.inner_text("[role=alert]")
        # a village inherits the commune's order
        page.goto(f"{served.url}/panel/zones/{VILLAGE}/languages")
        assert "Tiếng Việt → Tiếng Tày" in page.inner_text("#effective")
        # another commune's zone does not exist for this operator
        assert page.goto(f"{served.url}/panel/zones/{OTHER}/languages").status == 404  # type: ignore[union-attr]
    zone = served.api.get(f"/api/v1/zones/{COMMUNE}").json()
    assert zone["languages"] == ["vi", "tay"]
    assert _audit(served, "zone.languages", f"zone:{COMMUNE}") == ["lan: vi,tay"]
    with new_tab(browser, 1100, 800) as page:  # a viewer may look at zones, not set them
        login(page, served.url, "minh")
        assert page.goto(f"{served.url}{path}").status == 403  # type: ignore[union-attr]


def test_recording_in_another_language_is_added_after_sending(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    body = {"languages": ["vi", "tay"]}
    assert served.api.put(f"/api/v1/zones/{COMMUNE}/languages", json=body).status_code == 200
    ann = _announcement(served, needs_approval=True)
    recording = mp3_tone(tmp_path / "tay.mp3", 1.5)
    with new_tab(browser, 1100, 900) as page:
        login(page, served.url, "lan")
        page.goto(f"{served.url}/panel/announcements")
        page.locator(f"tr[data-ann='{ann}'] a[href$='/languages']").click()
        page.locator("#language-upload").wait_for()
        assert page.locator("#recordings tr[data-language]").count() == 1
        page.select_option("#variant-language", "tay")
        page.set_input_files(
            "#variant-file", {"name": "tay.mp3", "mimeType": "audio/mpeg", "buffer": recording}
        )
        page.fill("#variant-text", "Pò mẻ pây hội bản.")
        page.click("#variant-save")
        page.locator("#langs-saved").wait_for()
        assert "Tiếng Tày" in page.inner_text("#langs-saved")
        assert page.locator("#recordings tr[data-language='tay'] audio").count() == 1
        assert page.inner_text("#approval-state") == "Chờ duyệt"  # back to approval
        _shot(page, "announcement-languages")
        # a file that is not audio is refused with the reason, nothing added
        page.select_option("#variant-language", "nung")
        page.set_input_files(
            "#variant-file", {"name": "x.mp3", "mimeType": "audio/mpeg", "buffer": b"not audio"}
        )
        page.click("#variant-save")
        assert "x.mp3" in page.inner_text("[role=alert]")
        # a second Tày recording replaces the first; the joined file is made again
        longer = mp3_tone(tmp_path / "tay2.mp3", 3.0)
        page.select_option("#variant-language", "tay")
        page.set_input_files(
            "#variant-file", {"name": "tay2.mp3", "mimeType": "audio/mpeg", "buffer": longer}
        )
        page.click("#variant-save")
        page.locator("#langs-saved").wait_for()
    with served.ctl.sessions() as session:
        row = session.get_one(Announcement, ann)
        assert [v.language for v in row.variants] == ["tay"]
        assert [m.languages for m in row.mixes] == ["vi,tay"]  # joined for the node's order
        tay = next(p for p in row.mixes[0].parts if p["language"] == "tay")
        assert 2.5 < tay["duration_s"] < 3.5  # the new recording, not the 1.5 s one
        assert row.approval == "pending"
    assert _audit(served, "announcement.edit", f"announcement:{ann}") == [
        "lan: changed=variant language=tay",
        "lan: changed=variant language=tay",
    ]
    with new_tab(browser, 1100, 800) as page:  # commune B's operator: not found
        login(page, served.url, "hoa")
        response = page.goto(f"{served.url}/panel/announcements/{ann}/languages")
        assert response is not None and response.status == 404


def test_board_content_is_edited_after_sending(served: Served, browser: Browser) -> None:
    ann = _announcement(served, needs_approval=False)
    green, blue = images.png(64, 36, (20, 160, 60)), images.png(64, 36, (30, 60, 210))
    with new_tab(browser, 1100, 1000) as page:
        login(page, served.url, "lan")
        page.goto(f"{served.url}/panel/announcements")
        page.locator(f"tr[data-ann='{ann}'] a[href$='/board']").click()
        page.locator("#board-edit").wait_for()
        assert not page.is_checked("#board_on")
        page.check("#board_on")
        page.fill("#board_ticker", "Lịch tiêm chủng tháng 12")
        for name, data in (("xanh.png", green), ("lam.png", blue)):
            page.set_input_files(
                "#board_file", {"name": name, "mimeType": "image/png", "buffer": data}
            )
            page.click("#board-upload")
        page.wait_for_function(
            "JSON.parse(document.getElementById('board_slides').value || '[]').length === 2"
        )
        page.click("#board-preview")
        board = page.frame_locator("#board-frame")
        board.locator("body[data-version='1']").wait_for()
        assert board.locator("#text").inner_text() == "Kính mời bà con họp thôn."
        page.click("#board-save")
        page.locator("#board-saved").wait_for()
        assert page.inner_text("#approval-state") == "Không cần duyệt"
        # the saved slides come back in the form: removing them and saving keeps the text
        assert "2" in page.inner_text("#board-status")
        _shot(page, "announcement-board")
        page.click("#board-clear")
        page.click("#board-save")
        page.locator("#board-saved").wait_for()
    with served.ctl.sessions() as session:
        visual = session.get_one(Announcement, ann).visual
    assert visual is not None and visual.get("slides", []) == []
    assert visual["ticker"] == "Lịch tiêm chủng tháng 12"
    assert _audit(served, "announcement.edit", f"announcement:{ann}") == [
        "lan: changed=visual slides=2",
        "lan: changed=visual slides=0",
    ]
    published = served.api.get("/api/v1/announcements").json()
    assert next(a for a in published if a["id"] == ann)["visual"]["ticker"].startswith("Lịch")
    with new_tab(browser, 1100, 800) as page:  # commune B's operator: not found
        login(page, served.url, "hoa")
        response = page.goto(f"{served.url}/panel/announcements/{ann}/board")
        assert response is not None and response.status == 404
