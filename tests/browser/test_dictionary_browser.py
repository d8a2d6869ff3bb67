"""Issue 19 in a real Chromium: an operator teaches the reader a local place name, hears
it on the dictionary page, and the compose preview then says it differently (new words,
a different audio file) for announcements sent to that commune."""

from __future__ import annotations

import pytest
from browser.conftest import System, login
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TEXT = "Bà con bản Nà Pồng họp lúc 8h tại nhà văn hóa."


def _compose_preview(page: Page, system: System) -> tuple[str, str]:
    """Listen on the compose page (target: the commune); the words shown and the file."""
    page.goto(f"{system.url}/panel/announcements/new")
    page.get_by_label("Nội dung (tiếng Việt)").fill(TEXT)
    page.get_by_label("Xã Đồng Tiến").check()
    with page.expect_response("**/api/v1/tts/preview") as answer:
        page.get_by_role("button", name="Nghe thử").click()
    expect(page.locator("#audio-status")).to_contain_text("Giọng đọc ngoại tuyến")
    expect(page.locator("#normalised")).to_be_visible()
    return page.locator("#normalised").inner_text(), answer.value.headers["x-loa-media"]


def test_operator_adds_a_word_previews_it_and_compose_reads_it(page: Page, system: System) -> None:
    login(page, system.url, "lan")
    said_before, media_before = _compose_preview(page, system)
    assert "Nà Pồng" in said_before and "tám giờ" in said_before

    page.get_by_role("link", name="Từ điển phát âm").click()
    expect(page.get_by_role("heading", name="Từ điển phát âm")).to_be_visible()
    page.get_by_label("Chữ viết").fill("Nà Pồng")
    page.get_by_label("Cách đọc").fill("Na Pông")
    page.get_by_label("Áp dụng cho").select_option("xa-dong-tien")
    page.get_by_label("Câu nghe thử").fill(TEXT)
    page.get_by_role("button", name="Nghe thử").click()
    expect(page.locator("#dict-normalised")).to_contain_text("bản Na Pông họp lúc tám giờ")
    sample_media = page.locator("#dict-media").inner_text()
    assert sample_media and sample_media != media_before
    assert page.locator("#dict-player").evaluate("a => a.src.startsWith('blob:')")
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator("p.okmsg")).to_contain_text("Đã thêm cách đọc")
    expect(page.locator("#dict-entries")).to_contain_text("Na Pông")

    said_after, media_after = _compose_preview(page, system)
    assert "Na Pông" in said_after and "Nà Pồng" not in said_after
    assert media_after != media_before
    assert media_after == sample_media  # the listen preview was exactly what is now sent


def test_operator_cannot_teach_another_communes_zone(page: Page, system: System) -> None:
    login(page, system.url, "lan")
    page.goto(f"{system.url}/panel/dictionary")
    options = page.locator("#zone_id option").all_inner_texts()
    assert options and all("Vi Hương" not in o for o in options)
    page.context.clear_cookies()
    login(page, system.url, "minh")  # a viewer: no dictionary page at all
    response = page.goto(f"{system.url}/panel/dictionary")
    assert response is not None and response.status == 403
