"""Issue 18 §4-5 in real Chromium: an announcement at night is refused in the panel with the
quiet-hours message; the zones page shows the caps and windows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from browser.conftest import System, login
from playwright.sync_api import Page, expect

from protocol.quiet_hours import LOCAL_TZ

pytestmark = [pytest.mark.browser, pytest.mark.integration]


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

    tomorrow = (datetime.now(LOCAL_TZ) + timedelta(days=1)).date()
    page.goto(f"{system.url}/panel/announcements/new")
    page.get_by_label("Nội dung (tiếng Việt)").fill("Thông báo muộn: mất điện sáng mai.")
    page.get_by_label("Xã Đồng Tiến").check()
    page.get_by_label("Vào lúc", exact=True).check()
    page.locator("#at").fill(f"{tomorrow.isoformat()}T22:00")
    page.get_by_role("button", name="Lưu và phát").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("giờ yên lặng")
    expect(alert).to_contain_text(f"{tomorrow:%d/%m/%Y} 22:00 (21:30-05:00)")
    with system.controller.api() as api:
        assert api.get("/api/v1/announcements").json() == []  # nothing was stored
