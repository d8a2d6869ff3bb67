"""Issue 18 in a real Chromium against real processes (controller, Mosquitto, two agents with
the null player): the upstream inbox (schedule, decline, priority placed automatically) and
approval before air (draft -> reject -> edit -> approve -> aired on both speakers).
Screenshots go to docs/screenshots/ when LOA_SCREENSHOTS=1."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser.conftest import PASSWORD, System, login
from browser.test_panel_browser import shot
from playwright.sync_api import Browser, Page, expect
from support.processes import wait_until

from schedules.local_time import to_local_naive

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture(scope="module")
def approver(system: System) -> str:
    """Commune leadership of xã Đồng Tiến, and a province above it."""
    with system.controller.api() as api:
        r = api.post(
            "/api/v1/users",
            json={
                "username": "hoa",
                "password": PASSWORD,
                "role": "approver",
                "communes": ["xa-dong-tien"],
                "must_change_password": False,
            },
        )
        assert r.status_code == 201, r.text
    return "hoa"


def _send(api: httpx.Client, level: str, text: str) -> dict[str, Any]:
    body = {"level": level, "communes": ["xa-dong-tien"], "text": text}
    r = api.post("/api/v1/bulletins", json=body)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def _delivery(api: httpx.Client, bulletin_id: int) -> dict[str, Any]:
    found: dict[str, Any] = api.get(f"/api/v1/bulletins/{bulletin_id}").json()["deliveries"][0]
    return found


def test_inbox_schedule_and_decline_normal_bulletins(page: Page, system: System) -> None:
    with system.controller.api() as api:
        keep = _send(api, "normal", "Bản tin huyện: lịch tiêm phòng cho trâu bò.")["id"]
        drop = _send(api, "normal", "Bản tin huyện: thông báo cũ đã phát.")["id"]
    login(page, system.url, "lan")
    page.get_by_role("link", name="Hộp thư cấp trên").click()
    expect(page.get_by_role("heading", name="Hộp thư cấp trên")).to_be_visible()
    row = page.locator(f"#inbox-{keep}-xa-dong-tien")
    expect(row).to_contain_text("Đã nhận")
    shot(page, "inbox")
    local = to_local_naive(datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    row.get_by_label("Giờ phát").fill(local.strftime("%d/%m/%Y %H:%M"))
    row.get_by_role("button", name="Xếp lịch").click()
    expect(page.locator("#inbox-done")).to_contain_text("Đã xếp lịch")
    row = page.locator(f"#inbox-{keep}-xa-dong-tien")
    expect(row.locator(".state")).to_contain_text("Đã xếp lịch")
    expect(row.locator(".when")).to_contain_text(local.strftime("%d/%m/%Y %H:%M"))
    other = page.locator(f"#inbox-{drop}-xa-dong-tien")
    other.get_by_label("Lý do").fill("Xã đã thông báo trên loa hôm qua")
    other.get_by_role("button", name="Từ chối").click()
    expect(page.locator("#inbox-done")).to_contain_text("Đã từ chối")
    expect(page.locator(f"#inbox-{drop}-xa-dong-tien .state")).to_contain_text(
        "Xã đã thông báo trên loa hôm qua"
    )
    # what the sender sees, per commune
    with system.controller.api() as api:
        kept, dropped = _delivery(api, keep), _delivery(api, drop)
    assert kept["state"] == "scheduled" and kept["acted_by"] == "lan"
    assert to_local_naive(datetime.fromisoformat(kept["scheduled_for"])) == local
    assert (dropped["state"], dropped["decline_reason"]) == (
        "declined",
        "Xã đã thông báo trên loa hôm qua",
    )


@pytest.fixture
def slot_soon(system: System) -> Iterator[datetime]:
    """A daily programme slot whose next run starts 30 minutes from now."""
    run = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=30)
    local = to_local_naive(run)
    body = {
        "id": "ban-tin-trua",
        "title": "Bản tin trưa",
        "rule": {
            "freq": "daily",
            "time": local.strftime("%H:%M"),
            "start_date": (local.date() - timedelta(days=1)).isoformat(),
        },
        "duration_s": 1800,
    }
    with system.controller.api() as api:
        assert api.post("/api/v1/slots", json=body).status_code == 201
    yield run
    with system.controller.api() as api:
        for ann in api.get("/api/v1/announcements").json():
            if "Ưu tiên" in ann["title"]:
                api.delete(f"/api/v1/announcements/{ann['id']}")
        assert api.delete("/api/v1/slots/ban-tin-trua").status_code == 204


def test_a_priority_bulletin_is_placed_at_the_head_of_the_next_slot(
    page: Page, system: System, slot_soon: datetime
) -> None:
    with system.controller.api() as api:
        sent = _send(api, "priority", "Ưu tiên: phòng chống rét cho gia súc.")
    login(page, system.url, "lan")
    page.goto(f"{system.url}/panel/inbox")
    row = page.locator(f"#inbox-{sent['id']}-xa-dong-tien")
    expect(row.locator(".state")).to_contain_text("Đã xếp lịch")
    expect(row.locator(".when")).to_contain_text(
        to_local_naive(slot_soon).strftime("%d/%m/%Y %H:%M") + " · ban-tin-trua"
    )
    expect(row.get_by_role("button", name="Từ chối")).to_have_count(0)  # cannot be declined
    # it heads the slot on the speakers' playlists
    with system.controller.api() as api:
        preview = api.get("/api/v1/schedules/preview/dong-an-1").json()
    starts = [
        datetime.fromisoformat(i["start"].replace("Z", "+00:00"))
        for i in preview["items"]
        if i["title"] == "Ưu tiên: phòng chống rét cho gia súc."
    ]
    assert starts == [slot_soon], preview["items"]


def _aired(system: System, ann_id: int) -> int:
    with system.controller.api() as api:
        events = api.get("/api/v1/playback-events", params={"limit": 500}).json()
    return len(
        {
            e["node_id"]
            for e in events
            if e["kind"] == "finished" and str(e.get("item_id") or "").startswith(f"ann-{ann_id}@")
        }
    )


def test_draft_reject_edit_approve_then_aired(
    browser: Browser, page: Page, system: System, approver: str
) -> None:
    with system.controller.api() as api:
        r = api.patch("/api/v1/zones/xa-dong-tien", json={"needs_approval": True})
        assert r.status_code == 200, r.text
    try:
        _approval_flow(browser, page, system, approver)
    finally:
        with system.controller.api() as api:
            api.patch("/api/v1/zones/xa-dong-tien", json={"needs_approval": False})


def _approval_flow(browser: Browser, page: Page, system: System, approver: str) -> None:
    # the operator drafts through the JSON API with her panel session, as the panel's JS does
    login(page, system.url, "lan")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    start = datetime.now(UTC) + timedelta(seconds=75)
    r = page.request.post(
        f"{system.url}/api/v1/announcements",
        headers={"x-csrf-token": csrf},
        data={
            "text": "Mời bà con đi họp lúc bảy giờ.",
            "targets": ["xa-dong-tien"],
            "start": start.isoformat(),
            "draft": True,
        },
    )
    assert r.status == 201, r.text()
    ann = r.json()
    assert ann["approval"] == "draft"
    ann_id = ann["id"]
    page.get_by_role("link", name="Duyệt tin").click()
    row = page.locator(f"#appr-{ann_id}")
    expect(row.locator(".state")).to_contain_text("Bản nháp")
    row.get_by_role("button", name="Gửi duyệt", exact=True).click()
    expect(page.locator(f"#appr-{ann_id} .state")).to_contain_text("Chờ duyệt")
    # the approver listens and rejects with a comment
    boss = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    login(boss, system.url, approver)
    boss.goto(f"{system.url}/panel/approvals")
    boss_row = boss.locator(f"#appr-{ann_id}")
    audio = boss_row.locator("audio")
    duration = audio.evaluate(
        "a => new Promise(ok => { a.preload = 'metadata'; a.load();"
        " a.readyState >= 1 ? ok(a.duration) :"
        " a.addEventListener('loadedmetadata', () => ok(a.duration)) })"
    )
    assert duration > 1
    shot(boss, "approvals")
    boss_row.locator(".reject-form").get_by_label("Ý kiến").fill("Ghi rõ địa điểm họp")
    boss_row.get_by_role("button", name="Từ chối").click()
    expect(boss.locator("#appr-done")).to_contain_text("Đã từ chối")
    # the operator sees why, edits, and it waits for approval again
    page.reload()
    row = page.locator(f"#appr-{ann_id}")
    expect(row.locator(".comment")).to_contain_text("Ghi rõ địa điểm họp")
    row.get_by_label("Nội dung mới").fill("Mời bà con đi họp lúc bảy giờ tại nhà văn hóa.")
    row.get_by_role("button", name="Sửa và gửi duyệt lại").click()
    expect(page.locator(f"#appr-{ann_id} .state")).to_contain_text("Chờ duyệt")
    assert _aired(system, ann_id) == 0
    boss.goto(f"{system.url}/panel/approvals")
    boss.locator(f"#appr-{ann_id}").get_by_role("button", name="Duyệt", exact=True).click()
    expect(boss.locator("#appr-done")).to_contain_text("Đã duyệt")
    expect(boss.locator(f"#appr-{ann_id}")).to_have_count(0)  # no longer held
    boss.context.close()
    # both speakers play it at its time (null player, real timing) ...
    wait_until(lambda: _aired(system, ann_id) == 2, 150)
    # ... and the log shows who wrote it and who approved it
    page.goto(f"{system.url}/panel/logs?status=finished&item=ann-{ann_id}")
    expect(page.locator("#log-table .people").first).to_contain_text("lan")
    expect(page.locator("#log-table .people").first).to_contain_text("hoa")
    assert re.search(r"Người duyệt: hoa", page.locator("#log-table").inner_text())


def test_a_province_user_sends_a_bulletin_through_the_form(
    browser: Browser, page: Page, system: System
) -> None:
    """The province's operator writes a normal bulletin in the panel form, listens to it,
    ticks the commune by name and sends it; it lands in the commune operator's inbox."""
    with system.controller.api() as api:
        zone = {"id": "tinh-bac-ninh", "name": "Tỉnh Bắc Ninh", "kind": "tỉnh", "parent_id": None}
        assert api.post("/api/v1/zones", json=zone).status_code == 201
    # the API cannot move a zone: put the seeded commune under the province in its database
    db = Path(system.controller.env["LOA_DATA_DIR"]) / "loa.sqlite3"
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE zones SET parent_id = 'tinh-bac-ninh' WHERE id = 'xa-dong-tien'")
    with system.controller.api() as api:
        body = {
            "username": "tinh",
            "password": PASSWORD,
            "role": "operator",
            "communes": ["tinh-bac-ninh"],
            "must_change_password": False,
        }
        r = api.post("/api/v1/users", json=body)
        assert r.status_code == 201, r.text
    login(page, system.url, "tinh")
    page.get_by_role("link", name="Gửi bản tin").click()
    expect(page.get_by_role("heading", name="Gửi bản tin xuống xã")).to_be_visible()
    page.get_by_label("Tiêu đề").fill("Lịch tiêm phòng vụ xuân")
    text = "Bản tin tỉnh: tiêm phòng cho đàn gia cầm từ thứ hai."
    page.get_by_label("Nội dung (đọc bằng giọng máy)").fill(text)
    page.get_by_role("button", name="Nghe thử").click()
    expect(page.locator("#emg-listen-status")).to_contain_text("Sẵn sàng")
    expect(page.get_by_label("Thông thường")).to_be_checked()
    page.get_by_label("Xã Đồng Tiến").check()
    page.get_by_role("button", name="Gửi bản tin", exact=True).click()
    expect(page.locator("#inbox-done")).to_contain_text("Đã gửi bản tin")
    sent = page.locator("#sent tr", has_text="Lịch tiêm phòng vụ xuân")
    expect(sent).to_contain_text("Đã nhận")
    commune = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    try:
        login(commune, system.url, "lan")
        expect(commune.get_by_role("link", name="Gửi bản tin")).to_have_count(0)
        commune.get_by_role("link", name="Hộp thư cấp trên").click()
        row = commune.locator("#inbox tr", has_text="Lịch tiêm phòng vụ xuân")
        expect(row).to_contain_text("Đã nhận")
        expect(row).to_contain_text("tinh-bac-ninh")
    finally:
        commune.context.close()
