"""Issue 7's browser checks, against real processes: login, compose + preview, send now and
see it played in the logs, filter logs + CSV download, a viewer refused an operator action.
Screenshots of the main pages go to docs/screenshots/ when LOA_SCREENSHOTS=1."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import httpx
import pytest
from browser.conftest import NODES, System, login
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from support.processes import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TEXT = "Kính thưa bà con, 14 giờ chiều nay họp thôn tại nhà văn hóa."
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shot(page: Page, name: str) -> None:
    if os.environ.get("LOA_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_first_admin_logs_in_and_must_change_the_password(page: Page, system: System) -> None:
    login(page, system.url, "admin", "wrong-password")
    expect(page.get_by_role("alert")).to_contain_text("Sai tên đăng nhập")
    login(page, system.url, "admin", system.first_admin_password)
    expect(page).to_have_url(re.compile(r"/panel/password$"))
    page.get_by_label("Mật khẩu hiện tại").fill(system.first_admin_password)
    page.get_by_label("Mật khẩu mới (ít nhất 8 ký tự)").fill("Quan-tri-2025")
    page.get_by_label("Nhập lại mật khẩu mới").fill("Quan-tri-2025")
    page.get_by_role("button", name="Lưu mật khẩu").click()
    expect(page.locator("#password-changed")).to_contain_text("Đã đổi mật khẩu")
    page.get_by_role("link", name="Về trang tổng quan").click()
    expect(page.get_by_role("heading", name="Tổng quan hệ thống loa")).to_be_visible()
    expect(page.locator("#count-online")).to_have_text("2")
    shot(page, "dashboard")


def test_compose_preview_send_now_and_see_it_played(page: Page, system: System) -> None:
    login(page, system.url, "lan")
    page.goto(f"{system.url}/panel/announcements/new")
    page.get_by_label("Nội dung (tiếng Việt)").fill(TEXT)
    page.get_by_role("button", name="Nghe thử").click()
    expect(page.locator("#audio-status")).to_contain_text("Giọng đọc ngoại tuyến")
    duration = page.locator("#player").evaluate(
        "a => new Promise(ok => a.readyState >= 1 ? ok(a.duration) :"
        " a.addEventListener('loadedmetadata', () => ok(a.duration)))"
    )
    assert duration > 2
    page.get_by_label("Xã Đồng Tiến").check()
    page.get_by_role("button", name="Kiểm tra trùng giờ").click()
    expect(page.locator("#conflicts")).to_contain_text("Không trùng")
    shot(page, "compose")
    page.get_by_role("button", name="Lưu và phát").click()
    expect(page.locator("#ann-created")).to_contain_text("phát tới 2 cụm loa")
    ann_id = re.search(r"#(\d+)", page.locator("#ann-created").inner_text())
    assert ann_id
    # The agents play it (null player, real timing) and report; the log shows it.
    page.goto(f"{system.url}/panel/logs?status=finished&item=ann-{ann_id.group(1)}")
    for _ in range(60):
        if page.locator("#log-table .badge.finished").count() == 2:
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(page.locator("#log-table .badge.finished")).to_have_count(2)
    shot(page, "logs")


@pytest.mark.parametrize("width", [1100, 360])
def test_filter_logs_and_download_csv(page: Page, system: System, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    login(page, system.url, "minh")
    page.goto(f"{system.url}/panel/logs")
    page.get_by_label("Cụm loa").select_option("dong-an-1")
    page.get_by_label("Trạng thái").select_option("finished")
    # The export carries the form's current values without "Lọc" being pressed first.
    with page.expect_download() as info:
        page.get_by_role("button", name="Tải CSV").click()
    data = Path(info.value.path()).read_text(encoding="utf-8-sig")
    table = list(csv.DictReader(io.StringIO(data)))
    assert [(r["Mã cụm loa"], r["Trạng thái"]) for r in table] == [("dong-an-1", "Đã phát xong")]
    assert table[0]["Cụm loa"] == "Loa dong-an-1" and table[0]["Thôn/bản"] == "Bản Đồng An"
    assert table[0]["Nội dung"] == TEXT
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", table[0]["Thời gian"])
    page.get_by_role("button", name="Lọc").click()
    expect(page).to_have_url(re.compile(r"node=dong-an-1.*status=finished"))
    rows = page.locator("#log-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Loa dong-an-1")
    expect(rows.first.locator("strong")).to_have_text(TEXT)
    width_used = page.evaluate("document.documentElement.scrollWidth")
    assert width_used <= width
    shot(page, f"logs-{width}")


def test_viewer_is_refused_an_operator_action(page: Page, system: System) -> None:
    login(page, system.url, "minh")
    page.goto(f"{system.url}/panel/nodes/dong-an-1")
    expect(page.get_by_role("heading", name=re.compile("Loa dong-an-1"))).to_be_visible()
    expect(page.get_by_role("button", name="Dừng phát")).to_have_count(0)
    shot(page, "node")
    page.goto(f"{system.url}/panel/announcements/new")
    expect(page.get_by_role("alert")).to_contain_text("không có quyền")
    # Even a hand-made request with the viewer's own CSRF token is refused by the server.
    page.goto(f"{system.url}/panel/nodes/dong-an-1")
    status = page.evaluate(
        """async () => {
          const body = new URLSearchParams({csrf: loa.csrf(), action: "stop"});
          const r = await fetch("/panel/nodes/dong-an-1/command", {method: "POST", body});
          const api = await loa.send("/api/v1/tts/preview", {method: "POST",
            headers: {"Content-Type": "application/json"}, body: JSON.stringify({text: "x"})});
          return [r.status, api.status];
        }"""
    )
    assert status == [403, 403]


def test_a_user_makes_an_api_token_in_the_panel_uses_it_and_revokes_it(
    page: Page, system: System
) -> None:
    login(page, system.url, "minh")
    page.locator("#account-tokens").click()  # the account menu in the header
    expect(page.get_by_role("heading", name="Mã truy cập API của tôi")).to_be_visible()
    page.get_by_label("Tên (chương trình nào dùng)").fill("bảng tin nhà văn hóa")
    page.get_by_role("button", name="Tạo", exact=True).click()
    token = page.locator("#new-token-value").inner_text()
    assert token.startswith("loa_")
    api = httpx.Client(
        base_url=system.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    with api:
        nodes = api.get("/api/v1/nodes")
        assert nodes.status_code == 200 and {n["id"] for n in nodes.json()} == set(NODES)
        write = api.post("/api/v1/zones", json={"id": "z-minh", "name": "x"})
        assert write.status_code == 403  # the viewer's role, not the open test API's admin
        page.goto(f"{system.url}/panel/tokens")
        expect(page.locator("#new-token-value")).to_have_count(0)  # shown once only
        row = page.locator("tr", has_text="bảng tin nhà văn hóa")
        expect(row).not_to_contain_text("chưa dùng")  # last use is shown
        row.get_by_role("button", name="Thu hồi").click()
        expect(page.locator("tr", has_text="bảng tin nhà văn hóa")).to_contain_text("đã thu hồi")
        assert api.get("/api/v1/nodes").status_code == 401


def test_main_pages_fit_a_phone_and_have_labels(page: Page, system: System) -> None:
    login(page, system.url, "lan")
    page.set_viewport_size({"width": 360, "height": 740})
    for path in (
        "/panel/",
        "/panel/nodes",
        "/panel/logs",
        "/panel/announcements/new",
        "/panel/tokens",
    ):
        page.goto(system.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
        unlabeled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                 .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
                 .map(el => el.name || el.id)"""
        )
        assert unlabeled == [], (path, unlabeled)
    page.goto(system.url + "/panel/")
    shot(page, "dashboard-phone")
    page.set_viewport_size({"width": 1100, "height": 800})
    for name, path in (
        ("map", "/panel/map"),
        ("schedule", "/panel/schedule?zone=xa-dong-tien"),
        ("report", "/panel/reports/monthly?commune=xa-dong-tien"),
    ):
        page.goto(system.url + path)
        shot(page, name)
    # keyboard: Tab from the top reaches the skip link first, then the navigation
    page.goto(system.url + "/panel/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"


def _tabs_to(page: Page, element_id: str, limit: int = 150) -> int:
    """Tab presses from a fresh page until ``element_id`` has the focus."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return presses
    raise AssertionError(f"#{element_id} not reached in {limit} Tab presses")


@pytest.mark.parametrize("width", [1100, 360])
def test_compose_shows_only_the_chosen_source_and_send_is_few_tabs_away(
    page: Page, system: System, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    login(page, system.url, "lan")
    page.goto(f"{system.url}/panel/announcements/new")
    text = page.get_by_label("Nội dung (tiếng Việt)")
    expect(text).to_be_visible()
    expect(page.locator("#file")).to_be_hidden()
    expect(page.locator("#record")).to_be_hidden()
    page.get_by_label("Tải lên bản ghi âm").check()
    expect(page.locator("#file")).to_be_visible()
    expect(text).to_be_hidden()
    expect(page.locator("#record")).to_be_hidden()
    page.get_by_label("Ghi âm từ micro").check()
    expect(page.locator("#record")).to_be_visible()
    expect(page.locator("#file")).to_be_hidden()
    page.goto(f"{system.url}/panel/announcements/new")
    tabs = _tabs_to(page, "send")
    print(f"compose: {tabs} Tab presses to 'send' at {width} px")
    assert tabs <= 15, tabs
    # the target tree is one Tab stop however many places it lists; arrows move inside it
    boxes = page.locator("fieldset.tree input[type=checkbox]")
    assert boxes.count() > 3
    boxes.first.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") != "targets"
    boxes.first.focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == boxes.nth(1).get_attribute("id")
    page.keyboard.press("Space")
    expect(boxes.nth(1)).to_be_checked()
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == boxes.last.get_attribute("id")
    # choosing a date and time reveals its field (and the recurring ones stay out of the way)
    expect(page.locator("#at")).to_be_hidden()
    expect(page.locator("#recurring")).to_be_hidden()
    page.get_by_label("Vào lúc", exact=True).check()
    expect(page.locator("#at")).to_be_visible()
    shot(page, f"compose-{width}")


@pytest.mark.parametrize("width", [1100, 360])
def test_cancel_asks_first_and_one_day_of_a_series_stays_one_day(
    page: Page, system: System, width: int
) -> None:
    from datetime import UTC, date, datetime, timedelta

    page.set_viewport_size({"width": width, "height": 800})
    title = f"Họp chi bộ {width}"
    start = datetime.now(UTC) + timedelta(hours=3)
    with system.controller.api() as api:
        r = api.post(
            "/api/v1/announcements",
            json={
                "text": "Kính thưa bà con.",
                "title": title,
                "targets": ["ban-dong-an"],
                "start": start.isoformat(),
            },
        )
        assert r.status_code == 201, r.text
    login(page, system.url, "lan")
    page.goto(f"{system.url}/panel/announcements")
    row = page.locator("tr", has_text=title)
    row.get_by_role("link", name="Huỷ").click()
    expect(page.get_by_role("heading", name="Hủy thông báo")).to_be_visible()
    shot(page, f"cancel-confirm-{width}")
    page.get_by_role("button", name="Có, hủy thông báo").click()
    expect(page.locator("#ann-created")).to_contain_text(f"Đã hủy thông báo «{title}»")
    expect(row.get_by_role("link", name="Huỷ")).to_have_count(0)
    # a daily series next week; cancel only its Wednesday in the calendar
    today = date.today()
    monday = today + timedelta(days=7 - today.weekday())
    at = "19:05" if width == 1100 else "20:05"
    page.goto(f"{system.url}/panel/announcements/new")
    page.get_by_label("Nội dung (tiếng Việt)").fill(f"Loa truyền thanh {width}.")
    page.get_by_label("Bản Đồng An").check()
    page.get_by_label("Lặp lại", exact=True).check()
    page.get_by_label("Lặp", exact=True).select_option("daily")
    page.get_by_label("Giờ phát", exact=True).fill(at)
    page.get_by_label("Từ ngày (để trống: hôm nay)").fill(monday.strftime("%d/%m/%Y"))
    page.get_by_label("Đến ngày (không bắt buộc, tính cả ngày đó)").fill(
        (monday + timedelta(days=6)).strftime("%d/%m/%Y")
    )
    page.get_by_role("button", name="Lưu và phát").click()
    created = re.search(r"#(\d+)", page.locator("#ann-created").inner_text())
    assert created
    entry = f"ann-{created.group(1)}"
    page.goto(f"{system.url}/panel/schedule?zone=ban-dong-an&start={monday.isoformat()}")
    slots = page.locator(f'.slot[data-entry="{entry}"]')
    expect(slots).to_have_count(7)
    wednesday = page.locator(".day").nth(2).locator(f'.slot[data-entry="{entry}"]')
    wednesday.locator("summary").click()
    expect(wednesday.get_by_role("radio", name=re.compile("Chỉ ngày"))).to_be_checked()
    wednesday.get_by_role("button", name="Hủy…").click()
    expect(page.get_by_role("heading", name="Hủy mục lịch phát")).to_be_visible()
    page.get_by_role("button", name="Có, hủy").click()
    expect(page.locator("#sched-message")).to_contain_text("các ngày khác vẫn phát")
    expect(slots).to_have_count(6)
    expect(page.locator(".day").nth(2).locator(f'.slot[data-entry="{entry}"]')).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1100, 360])
def test_dashboard_shows_an_emergency_on_air_then_not(
    page: Page, system: System, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    login(page, system.url, "minh")
    expect(page.locator("#count-online")).to_have_text("2")
    title = f"Sạt lở đường vào bản {width}"
    with system.controller.api() as api:
        r = api.post(
            "/api/v1/emergencies",
            json={"zones": ["xa-dong-tien"], "text": "Sạt lở, bà con tránh xa.", "title": title},
        )
        assert r.status_code in (200, 201), r.text
    seen_on_air = False
    for _ in range(90):
        page.reload()
        count = int(page.locator("#count-playing").inner_text())
        listed = page.locator("#on-air .muted").all_inner_texts()
        names = sum(text.count("Loa ") for text in listed)
        assert count == names, (count, listed)  # the count and the list never disagree
        banner = page.locator("#dash-emergency")
        if banner.count():
            expect(banner).to_contain_text(title)
            seen_on_air = True
            shot(page, f"dashboard-emergency-{width}")
        elif seen_on_air:
            break
        page.wait_for_timeout(500)
    assert seen_on_air, "the emergency never showed as on air"
    # the single play finished everywhere: nothing left shown as playing
    expect(page.locator("#dash-emergency")).to_have_count(0)
    assert int(page.locator("#count-playing").inner_text()) == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_report_upward_downloads_csv_and_xlsx_that_match_the_api(
    page: Page, system: System
) -> None:
    """Something plays now on both speakers; the report page shows it, and the CSV and XLSX
    downloaded through the browser carry the same figures as the JSON the province pulls."""
    with system.controller.api() as api:
        r = api.post(
            "/api/v1/announcements",
            json={"text": "Báo cáo tháng: kiểm tra loa.", "targets": ["xa-dong-tien"]},
        )
        assert r.status_code == 201, r.text
        item = f"ann-{r.json()['id']}@"

        def reported() -> set[str]:
            """Nodes that reported how the item ended (played, or failed / skipped when a
            loaded machine made it late: the report counts those too)."""
            events = api.get("/api/v1/playback-events", params={"limit": 10_000}).json()
            ends = ("finished", "failed", "skipped", "missed")
            return {
                e["node_id"]
                for e in events
                if (e["item_id"] or "").startswith(item) and e["kind"] in ends
            }

        wait_until(lambda: reported() == set(NODES), 120)
    login(page, system.url, "lan")
    page.goto(f"{system.url}/panel/reports/monthly")
    page.get_by_label("Xã / tỉnh").select_option("xa-dong-tien")
    page.get_by_role("button", name="Xem báo cáo").click()
    section = page.locator('section[data-zone="xa-dong-tien"]')
    expect(section.locator("tr[data-node]")).to_have_count(2)
    shot(page, "report-upward")
    href = page.locator("#download-csv").get_attribute("href") or ""
    period = re.search(r"period=([0-9Q-]+)", href)
    assert period
    with system.controller.api() as api:
        r = api.get(f"/api/v1/reports/upward/xa-dong-tien?period={period.group(1)}")
        assert r.status_code == 200, r.text
        nodes = {n["node_id"]: n for n in r.json()["total"]["nodes"]}
    assert all(n["played"] + n["failed"] + n["missed"] >= 1 for n in nodes.values()), nodes

    with page.expect_download() as info:
        page.locator("#download-csv").click()
    assert info.value.suggested_filename == f"bao-cao-xa-dong-tien-{period.group(1)}.csv"
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8-sig"))))
    start = rows.index(["Tình hình phát theo cụm loa"]) + 1
    headers = rows[start]
    csv_nodes = {r[2]: dict(zip(headers, r, strict=True)) for r in rows[start + 1 : start + 3]}
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", rows[1][1])
    with page.expect_download() as info:
        page.locator("#download-xlsx").click()
    assert info.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    sheet = book["Cụm loa"]
    assert [c.value for c in sheet[2]] == headers
    xlsx_nodes = {r[2]: r for r in sheet.iter_rows(min_row=3, values_only=True) if r[2]}
    for node_id, n in nodes.items():
        got = csv_nodes[node_id]
        assert int(got["Kế hoạch"]) == n["planned"] == xlsx_nodes[node_id][3]
        assert int(got["Đã phát"]) == n["played"] == xlsx_nodes[node_id][5]
        assert int(got["Lượt phát trong kỳ"]) == n["plays"] == xlsx_nodes[node_id][11]
        minutes = round(n["airtime_s"] / 60, 2)
        assert float(got["Thời lượng phát (phút)"]) == minutes == xlsx_nodes[node_id][12]
    # the quarter picker
    page.get_by_label("Kỳ báo cáo").select_option("quarter")
    page.get_by_role("button", name="Xem báo cáo").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("quý")
