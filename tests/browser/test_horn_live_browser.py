"""Issue 18 §4-5 in real Chromium: an announcement at night is refused in the panel with the
quiet-hours message (the zones page shows caps and windows); a live broadcast from a fake
microphone reaches a real Icecast 2 and the chosen zone's agent, then ends."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from browser.conftest import ARGS, CHROMIUM, System, login
from browser.test_panel_browser import shot
from integration.emergency.icecast_server import IcecastServer
from playwright.sync_api import Browser, Page, expect, sync_playwright
from support.processes import wait_until

from protocol.quiet_hours import LOCAL_TZ

pytestmark = [pytest.mark.browser, pytest.mark.integration]
FAKE_MIC = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def icecast() -> Iterator[IcecastServer]:
    if shutil.which("icecast2") is None and shutil.which("icecast") is None:
        pytest.skip("icecast2 is not installed (deploy/dev/bootstrap.sh installs it)")
    workdir = Path(tempfile.mkdtemp(prefix="loa-icecast-"))
    server = IcecastServer(workdir)  # not tmp_path: Icecast (as nobody) must reach its logs
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def controller_settings(icecast: IcecastServer) -> dict[str, str]:
    return {
        "icecast_host": "127.0.0.1",
        "icecast_port": str(icecast.port),
        "icecast_mount": "/live.mp3",
        "icecast_source_password": icecast.password,
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium with a fake microphone (a beep) that needs no permission prompt."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, *FAKE_MIC], headless=True)
        try:
            yield b
        finally:
            b.close()


def test_a_notice_at_night_is_refused_with_the_quiet_hours_message(
    page: Page, system: System
) -> None:
    with system.controller.api() as api:
        r = api.patch(
            "/api/v1/zones/xa-dong-tien", json={"volume_cap": 80, "quiet_hours": "21:30-05:00"}
        )
        assert r.status_code == 200, r.text
    login(page, system.url, "lan")
    page.goto(f"{system.url}/panel/zones")
    row = page.locator("#zone-xa-dong-tien")
    expect(row).to_contain_text("21:30-05:00")
    expect(row).to_contain_text("80")
    shot(page, "zones-safety")

    tomorrow = (datetime.now(LOCAL_TZ) + timedelta(days=1)).date()
    page.goto(f"{system.url}/panel/announcements/new")
    page.get_by_label("Nội dung (tiếng Việt)").fill("Thông báo muộn: mất điện sáng mai.")
    page.get_by_label("Xã Đồng Tiến").check()
    page.get_by_label("Vào lúc", exact=True).check()
    page.locator("#at").fill(f"{tomorrow:%d/%m/%Y} 22:00")
    page.get_by_role("button", name="Lưu và phát").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("giờ yên lặng")
    expect(alert).to_contain_text(f"{tomorrow:%d/%m/%Y} 22:00 (21:30-05:00)")
    shot(page, "compose-quiet-hours")
    with system.controller.api() as api:
        assert api.get("/api/v1/announcements").json() == []  # nothing was stored


def _events(system: System, node: str, kind: str) -> list[dict[str, object]]:
    with system.controller.api() as api:
        found = api.get("/api/v1/playback-events", params={"node": node}).json()
    return [e for e in found if e["kind"] == kind and str(e.get("item_id", "")).startswith("live-")]


def test_live_from_the_browser_microphone_reaches_icecast_and_the_zone_then_ends(
    page: Page, system: System, icecast: IcecastServer
) -> None:
    login(page, system.url, "lan")
    page.goto(f"{system.url}/panel/broadcast")
    expect(page.locator("#live-unavailable")).to_have_count(0)
    page.get_by_label("Bản Đồng An").check()
    page.get_by_role("button", name="Phát trực tiếp").click()
    expect(page.locator("#live-state")).to_have_text("Đang phát trực tiếp", timeout=20_000)
    level = page.locator("#live-level").evaluate("m => m.value")
    assert level > 0, level  # the fake microphone's beep moves the meter
    delay_ms = int(page.locator("#live-delay").get_attribute("data-ms") or "-1")
    assert 250 <= delay_ms < 5000, delay_ms
    print(f"live: measured mic-to-encoder delay {delay_ms} ms")
    shot(page, "live-broadcast")

    # a listener on the mount gets MP3 audio (what the agents play)
    with httpx.stream("GET", f"http://127.0.0.1:{icecast.port}/live.mp3", timeout=10) as r:
        assert r.status_code == 200
        got = b""
        for chunk in r.iter_bytes():
            got += chunk
            if len(got) > 4000:
                break
    assert len(got) > 4000
    started = wait_until(lambda: _events(system, "dong-an-1", "started"), 30)
    assert started and not _events(system, "cay-thi-1", "started")  # only the chosen zone

    page.get_by_role("button", name="Kết thúc").click()
    expect(page.locator("#live-state")).to_have_text("Đã kết thúc")
    ended = wait_until(lambda: _events(system, "dong-an-1", "finished"), 30)
    assert "stopped by" in str(ended[0]["detail"])
    with system.controller.api() as api:
        assert api.get("/api/v1/live").json()["current"] is None


def test_a_relay_is_created_and_edited_in_the_panel(page: Page, system: System) -> None:
    login(page, system.url, "lan")
    page.goto(f"{system.url}/panel/relays")
    page.get_by_role("link", name="Thêm lịch tiếp sóng").click()
    page.get_by_label("Tên chương trình").fill("Tiếp sóng VOV1")
    page.get_by_label("Địa chỉ luồng").fill("https://vov.example.vn/vov1.m3u8")
    page.get_by_label("Giờ bắt đầu").fill("06:00")
    page.get_by_label("Thời lượng (phút)").fill("30")
    page.get_by_label("Bản Đồng An").check()
    fallback = Path(tempfile.mkdtemp()) / "du-phong.wav"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=2", str(fallback)],
        check=True,
    )  # fmt: skip
    page.get_by_label("Bản ghi dự phòng (khi mất luồng)").set_input_files(str(fallback))
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator("#relay-saved")).to_be_visible()
    row = page.locator("#relay-table tr[data-relay]").filter(has_text="Tiếp sóng VOV1")
    expect(row).to_contain_text("06:00 · 30 phút")
    expect(row).to_contain_text("Bản Đồng An")  # the zone's name, not its id
    expect(row).not_to_contain_text("ban-dong-an")
    expect(row).to_contain_text("Có")

    row.get_by_role("link", name="Sửa").click()
    shot(page, "relays")
    page.get_by_label("Giờ bắt đầu").fill("06:15")
    page.get_by_label("Thời lượng (phút)").fill("45")
    page.get_by_role("button", name="Lưu").click()
    expect(row).to_contain_text("06:15 · 45 phút")
    expect(row).to_contain_text("Có")  # the fallback recording was kept
    with system.controller.api() as api:
        relays = [e for e in api.get("/api/v1/schedules").json() if e["entry"]["kind"] == "stream"]
    assert len(relays) == 1
    entry = relays[0]["entry"]
    assert entry["duration_s"] == 45 * 60 and entry["rule"]["time"].startswith("06:15")
    assert entry["fallback"]["sha256"] and entry["stream_url"].endswith("vov1.m3u8")
