"""Issue 16 items 4, 7 and 12 in real Chromium (desktop 1100 px and a 360 px phone), against
real processes: the emergency zone list and recording picker with listening first; date and
time fields in Vietnamese form in an English browser in New York; accounts (password link,
strength rule, success message, commune checkboxes, a refused form that keeps what was typed).
Screenshots go to docs/screenshots/ when LOA_SCREENSHOTS=1."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser.conftest import PASSWORD, System, login
from playwright.sync_api import Browser, Page, expect
from support.audio_files import mp3_tone

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
WIDTHS = [1100, 360]


def shot(page: Page, name: str) -> None:
    if os.environ.get("LOA_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fits(page: Page, width: int) -> None:
    wide = page.evaluate(
        "w => [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > w)"
        ".slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)",
        width,
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width, wide


@pytest.fixture
def english_page(browser: Browser) -> Iterator[Page]:
    """A browser whose language and clock say New York: the panel must not care."""
    context = browser.new_context(
        locale="en-US", timezone_id="America/New_York", viewport={"width": 1100, "height": 800}
    )
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    try:
        yield tab
    finally:
        context.close()


def _csrf(page: Page) -> str:
    token = page.locator('input[name="csrf"]').first.get_attribute("value")
    assert token
    return token


def _loaded_duration(page: Page, selector: str) -> float:
    duration: float = page.locator(selector).evaluate(
        "a => new Promise((ok, no) => { if (a.readyState >= 1) return ok(a.duration);"
        " a.addEventListener('loadedmetadata', () => ok(a.duration));"
        " a.addEventListener('error', () => no(new Error('audio did not load'))); a.load(); })"
    )
    return duration


# -- item 4: the emergency form -------------------------------------------------------------


def _titled_recording(
    page: Page, system: System, tmp_path: Path, title: str, seconds: float
) -> str:
    """Upload a recording as the compose page does, and use it in an announcement."""
    page.goto(f"{system.url}/panel/announcements/new")
    token = _csrf(page)
    audio = mp3_tone(tmp_path / "tone.mp3", seconds)
    r = page.request.post(
        f"{system.url}/panel/announcements/upload",
        multipart={"file": {"name": "ban-tin.mp3", "mimeType": "audio/mpeg", "buffer": audio}},
        headers={"X-CSRF-Token": token},
    )
    assert r.ok, r.text()
    sha: str = r.json()["sha256"]
    later = (datetime.now(VIETNAM) + timedelta(days=3)).strftime("%d/%m/%Y 21:15")
    r = page.request.post(
        f"{system.url}/panel/announcements",
        form={
            "csrf": token,
            "targets": "ban-dong-an",
            "title": title,
            "media_sha256": sha,
            "when": "at",
            "at": later,
        },
    )
    assert r.ok, r.text()
    return sha


@pytest.mark.parametrize("width", WIDTHS)
def test_emergency_zones_one_per_row_recording_by_title_and_listen_first(
    page: Page, system: System, tmp_path: Path, width: int
) -> None:
    login(page, system.url, "lan")
    title = f"Bản tin phòng chống bão {width}"
    sha = _titled_recording(page, system, tmp_path, title, 2.0 if width == 1100 else 2.5)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{system.url}/panel/emergency")
    rows = page.locator("#emg-zones li")
    expect(rows).to_have_count(3)
    previous_bottom = -1.0
    for i in range(rows.count()):
        row = rows.nth(i)
        box = row.locator('input[type="checkbox"]').bounding_box()
        name = row.locator("span").bounding_box()
        label = row.locator("label").bounding_box()
        assert box and name and label
        # the box sits on its own village's line, left of that village's name ...
        assert name["y"] <= box["y"] + box["height"] / 2 <= name["y"] + name["height"], i
        assert box["x"] + box["width"] <= name["x"], i
        # ... rows never share a line, and each is a finger's height
        assert label["y"] >= previous_bottom - 0.5, i
        assert label["height"] >= 44, label
        previous_bottom = label["y"] + label["height"]
    expect(rows.nth(1)).to_contain_text("ban-cay-thi")  # the id, as secondary text
    # clicking the name ticks its own box, not the next village's
    page.locator("#emg-zones label", has_text="Bản Cây Thị").locator("span").click()
    expect(page.locator('#emg-zones input[value="ban-cay-thi"]')).to_be_checked()
    expect(page.locator('#emg-zones input[value="ban-dong-an"]')).not_to_be_checked()
    # no hash to paste: recordings are chosen by title, date and length
    assert page.locator('input[name="media_sha256"]').count() == 0
    picker = page.get_by_label("Hoặc một bản ghi đã tải lên")
    expect(picker.locator("option", has_text=title)).to_have_count(1)
    assert sha not in picker.inner_text()
    # listen to the text first (rendered by the controller)
    text_box = page.get_by_label("Nội dung (đọc bằng giọng máy)")
    text_box.fill("Bà con chú ý, nước sông đang lên nhanh.")
    page.get_by_role("button", name="Nghe thử").click()
    expect(page.locator("#emg-listen-status")).to_contain_text("Sẵn sàng", timeout=30_000)
    assert (page.locator("#emg-player").get_attribute("src") or "").startswith("blob:")
    assert _loaded_duration(page, "#emg-player") > 1
    # then pick the recording instead, and listen to it
    text_box.fill("")
    shown = picker.locator("option", has_text=title).inner_text().strip()
    assert re.fullmatch(rf"{title} · \d\d/\d\d/\d{{4}} \d\d:\d\d · 0:0\d", shown), shown
    picker.select_option(label=shown)
    page.get_by_role("button", name="Nghe thử").click()
    expect(page.locator("#emg-player")).to_have_attribute("src", re.compile(sha))
    assert 1.5 < _loaded_duration(page, "#emg-player") < 4
    fits(page, width)
    shot(page, f"emergency-form-{width}")
    page.get_by_role("button", name="Kiểm tra trước khi phát").click()
    expect(page.locator("#emg-confirm-recording")).to_contain_text(title)
    assert sha not in page.locator("#emg-summary").inner_text()
    assert _loaded_duration(page, "#emg-player") > 1  # listen again before issuing
    fits(page, width)
    shot(page, f"emergency-confirm-{width}")
    page.get_by_role("button", name="PHÁT KHẨN CẤP NGAY").click()
    expect(page).to_have_url(re.compile(r"/panel/emergency/[^/]+$"))
    expect(page.locator("main dl")).to_contain_text("ban-cay-thi")


# -- item 7: dates and times whatever the browser's language --------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_an_english_browser_gets_vietnamese_dates_and_the_right_stored_time(
    english_page: Page, system: System, width: int
) -> None:
    page = english_page
    page.set_viewport_size({"width": width, "height": 900})
    login(page, system.url, "lan")
    page.goto(f"{system.url}/panel/announcements/new")
    for field in ("#at", "#time_of_day", "#from_date", "#until"):
        assert page.locator(field).get_attribute("type") == "text", field
    expect(page.locator("#at")).to_have_attribute("placeholder", "dd/mm/yyyy HH:MM")
    expect(page.locator("#time_of_day")).to_have_attribute("placeholder", "HH:MM")
    page.get_by_label("Nội dung (tiếng Việt)").fill(f"Kính thưa bà con, họp lúc chiều {width}.")
    page.get_by_label("Bản Đồng An").check()
    page.get_by_label("Lặp lại", exact=True).check()
    page.locator("#time_of_day").fill("6h5")
    page.locator("#time_of_day").press("Tab")
    expect(page.locator("#time_of_day")).to_have_value("06:05")
    page.get_by_label("Vào lúc").check()
    # the US order is refused by the field itself ...
    page.locator("#at").fill("12/25/2026 6:30 PM")
    assert page.locator("#at").evaluate("e => e.validity.patternMismatch")
    # ... and a date that does not exist by the server, in Vietnamese, keeping what was typed
    page.locator("#at").fill("31/02/2027 18:30")
    page.get_by_role("button", name="Lưu và phát").click()
    expect(page.get_by_role("alert")).to_contain_text("ngày/tháng/năm")
    expect(page.locator("#at")).to_have_value("31/02/2027 18:30")
    # a sloppy but clear entry is tidied on leaving the field, then stored as UTC
    day = (datetime.now(VIETNAM) + timedelta(days=4)).date()
    minute = 31 if width == 1100 else 41
    page.locator("#at").fill(f"{day.day}/{day.month}/{day.year} 18h{minute}")
    page.locator("#at").press("Tab")
    expect(page.locator("#at")).to_have_value(f"{day:%d/%m/%Y} 18:{minute}")
    fits(page, width)
    page.get_by_role("button", name="Lưu và phát").click()
    created = re.search(r"#(\d+)", page.locator("#ann-created").inner_text())
    assert created
    with system.controller.api() as api:
        found = [a for a in api.get("/api/v1/announcements").json() if a["id"] == int(created[1])]
    assert len(found) == 1
    stored = datetime.fromisoformat(found[0]["start"])
    expected = datetime(day.year, day.month, day.day, 18, minute, tzinfo=VIETNAM)
    assert stored == expected.astimezone(UTC), (stored, expected)
    # the listing shows it back in Vietnamese form and 24-hour time
    page.goto(f"{system.url}/panel/announcements")
    expect(page.locator("main")).to_contain_text(f"{day:%d/%m/%Y} 18:{minute}")
    # the log filter too: typed day-first, kept day-first
    page.goto(f"{system.url}/panel/logs")
    page.get_by_label("Từ ngày").fill(f"1/{day.month}/{day.year}")
    page.get_by_label("Từ ngày").press("Tab")
    expect(page.get_by_label("Từ ngày")).to_have_value(f"01/{day:%m/%Y}")
    page.get_by_role("button", name="Lọc").click()
    expect(page.get_by_label("Từ ngày")).to_have_value(f"01/{day:%m/%Y}")
    expect(page.get_by_role("alert")).to_have_count(0)
    shot(page, f"dates-english-browser-{width}")


# -- item 12: accounts ----------------------------------------------------------------------


def _user(system: System, username: str, role: str, everything: bool = False) -> None:
    with system.controller.api() as api:
        r = api.post(
            "/api/v1/users",
            json={
                "username": username,
                "password": PASSWORD,
                "role": role,
                "communes": [] if everything else ["xa-dong-tien"],
                "all_communes": everything,
                "must_change_password": False,
            },
        )
        assert r.status_code == 201, r.text


@pytest.mark.parametrize("width", WIDTHS)
def test_change_own_password_from_any_page_with_a_strength_rule(
    page: Page, system: System, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    username = f"hoa-{width}"
    _user(system, username, "viewer")
    login(page, system.url, username)
    page.goto(f"{system.url}/panel/logs")
    link = page.get_by_role("link", name="Đổi mật khẩu")
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(r"/panel/password$"))
    expect(page.locator("#password-rules")).to_contain_text("không chứa tên đăng nhập")
    page.get_by_label("Mật khẩu hiện tại").fill(PASSWORD)
    for weak, words in (("Matkhau@123", "quá phổ biến"), (f"{username}-2026", "tên đăng nhập")):
        page.get_by_label("Mật khẩu hiện tại").fill(PASSWORD)
        page.get_by_label("Mật khẩu mới (ít nhất 8 ký tự)").fill(weak)
        page.get_by_label("Nhập lại mật khẩu mới").fill(weak)
        page.get_by_role("button", name="Lưu mật khẩu").click()
        expect(page.locator("#password-error")).to_contain_text(words)
    page.get_by_label("Mật khẩu hiện tại").fill(PASSWORD)
    page.get_by_label("Mật khẩu mới (ít nhất 8 ký tự)").fill("Loa-bao-lu-2026")
    page.get_by_label("Nhập lại mật khẩu mới").fill("Loa-bao-lu-2026")
    page.get_by_role("button", name="Lưu mật khẩu").click()
    expect(page.locator("#password-changed")).to_contain_text("Đã đổi mật khẩu")
    fits(page, width)
    shot(page, f"password-changed-{width}")
    page.context.clear_cookies()
    login(page, system.url, username, "Loa-bao-lu-2026")
    expect(page).to_have_url(re.compile(r"/panel/$"))


@pytest.mark.parametrize("width", WIDTHS)
def test_new_user_communes_are_named_checkboxes_and_a_refusal_keeps_the_form(
    page: Page, system: System, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    admin = f"quan-tri-{width}"
    _user(system, admin, "admin", everything=True)
    login(page, system.url, admin)
    page.goto(f"{system.url}/panel/users")
    expect(page.get_by_role("heading", name="Người dùng", exact=True)).to_be_visible()
    form = page.locator("#user-create")
    assert form.locator("select[multiple]").count() == 0
    commune = form.get_by_label("Xã Đồng Tiến")
    expect(commune).to_have_attribute("type", "checkbox")
    row = form.locator("#n-communes label", has_text="Xã Đồng Tiến").bounding_box()
    assert row and row["height"] >= 44
    username = f"can-bo-{width}"
    form.get_by_label("Tên đăng nhập").fill(username)
    form.get_by_label("Họ tên").fill("Lò Văn Cường")
    form.get_by_label("Mật khẩu ban đầu").fill("Nghe-loa-7-gio")
    form.get_by_label("Vai trò").select_option("viewer")
    form.get_by_role("button", name="Tạo").click()
    expect(page.locator("#users-error")).to_contain_text("hãy chọn ít nhất một xã")
    form = page.locator("#user-create")
    expect(form.get_by_label("Tên đăng nhập")).to_have_value(username)
    expect(form.get_by_label("Họ tên")).to_have_value("Lò Văn Cường")
    expect(form.get_by_label("Vai trò")).to_have_value("viewer")
    expect(form.get_by_label("Mật khẩu ban đầu")).to_have_value("")
    fits(page, width)
    shot(page, f"users-refused-{width}")
    form.get_by_label("Mật khẩu ban đầu").fill("Nghe-loa-7-gio")
    form.get_by_label("Xã Đồng Tiến").check()
    form.get_by_role("button", name="Tạo").click()
    expect(page.locator("#users-message")).to_contain_text(f"Đã tạo người dùng {username}")
