"""The compose page's e-board routes: slide uploads refuse what is not an image or a PDF,
a PDF gives one slide per page, and the preview serves the kiosk page under a strict CSP."""

from __future__ import annotations

import pytest
from integration.panel.panel_support import Panel
from support import images

from controller.panel import board_preview

pytestmark = pytest.mark.integration
BASE = "/panel/announcements"


def _upload(panel: Panel, name: str, data: bytes) -> tuple[int, dict[str, object]]:
    client = panel.as_("operator")
    r = client.post(
        f"{BASE}/upload-slide",
        files={"file": (name, data, "application/octet-stream")},
        headers={"X-CSRF-Token": panel.csrf["operator"]},
    )
    return r.status_code, r.json()


def test_slides_from_an_image_and_a_pdf_and_refusals_in_vietnamese(panel: Panel) -> None:
    status, answer = _upload(panel, "a.png", images.png())
    assert status == 200 and len(answer["slides"]) == 1  # type: ignore[arg-type]
    status, answer = _upload(panel, "tb.pdf", images.pdf(2))
    assert status == 200
    assert [s["ext"] for s in answer["slides"]] == ["png", "png"]  # type: ignore[attr-defined]
    for name, data in (("x.gif", b"GIF89a" + b"\0" * 20), ("y.pdf", images.pdf(21))):
        status, answer = _upload(panel, name, data)
        assert status == 422 and f"Không dùng được tệp {name}" in str(answer["error"])


def test_preview_is_the_kiosk_page_with_the_composed_state(panel: Panel) -> None:
    client = panel.as_("operator")
    board = board_preview.PreviewBoard(title="Họp dân", text="Mời bà con", ticker="Thôn Đông")
    token = board_preview.encode(board)
    page = client.get(f"{BASE}/board-preview/{token}/")
    assert page.status_code == 200 and 'id="slide-img"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "http" not in page.text.split("<script>")[1]  # the page loads nothing by URL
    state = client.get(f"{BASE}/board-preview/{token}/state.json").json()
    assert (state["title"], state["text"], state["ticker"]) == (
        "Họp dân",
        "Mời bà con",
        "Thôn Đông",
    )
    assert client.get(f"{BASE}/board-preview/not-a-board/").status_code == 404
    assert client.get(f"{BASE}/board-preview/not-a-board/state.json").status_code == 404


def test_a_board_naming_no_uploaded_slide_is_refused_and_the_form_kept(panel: Panel) -> None:
    client = panel.as_("operator")
    before = client.get("/api/v1/announcements").json()
    form = {
        "csrf": panel.csrf["operator"],
        "text": "Kiểm tra bảng tin.",
        "targets": "ban-dong-an",
        "when": "now",
        "board_on": "1",
        "board_ticker": "Dòng chữ chạy thử",
        "board_slides": '[{"image_sha256": "' + "0" * 64 + '", "duration_s": 5}]',
    }
    r = client.post(BASE, data=form)
    assert r.status_code == 422
    assert "Nội dung bảng tin không hợp lệ" in r.text
    assert 'value="Dòng chữ chạy thử"' in r.text  # what was typed is still there
    assert client.get("/api/v1/announcements").json() == before
    form["board_slides"] = "not json"
    assert client.post(BASE, data=form).status_code == 422
