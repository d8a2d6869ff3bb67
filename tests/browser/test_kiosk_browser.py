"""The e-board's kiosk page in Debian's headless Chromium: normal, slides, emergency.

The agent's display backend serves it on loopback from a media cache directory; each state is
screenshotted and checked by DOM content and by pixels (the emergency banner's red must cover
the screen; a slide's colour must be on screen). Screenshots land in the test's tmp dir.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser.conftest import new_tab
from playwright.sync_api import Browser, Page

from agent.backends.display import BoardSlide, BoardState, DisplayServer

W, H = 1280, 720
SLIDE_RGB = (20, 160, 60)


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG written by hand (no imaging library on the agent)."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Decode Chromium's screenshot (8-bit RGB/RGBA, non-interlaced) into rows."""
    data = io.BytesIO(png)
    assert data.read(8) == b"\x89PNG\r\n\x1a\n"
    idat, width, height, channels = b"", 0, 0, 3
    while True:
        length, kind = struct.unpack(">I4s", data.read(8))
        body = data.read(length)
        data.read(4)
        if kind == b"IHDR":
            width, height, _depth, colour = struct.unpack(">IIBB", body[:10])
            channels = 4 if colour == 6 else 3
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line) if channels == 3 else bytes(_rgb(line)))
        prev = line
    return width, height, rows


def _rgb(line: bytearray) -> bytearray:
    out = bytearray()
    for i in range(0, len(line), 4):
        out += line[i : i + 3]
    return out


SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _shot_path(tmp_path: Path, name: str) -> Path:
    """docs/screenshots/ when LOA_SCREENSHOTS=1 (the docs' kiosk pictures), else tmp_path."""
    return (SHOTS if os.environ.get("LOA_SCREENSHOTS") == "1" else tmp_path) / f"{name}.png"


def _share(png: bytes, test: object) -> float:
    """Share of sampled pixels (every 8th) for which ``test(r, g, b)`` holds."""
    width, height, rows = _pixels(png)
    hits = total = 0
    for y in range(0, height, 8):
        row = rows[y]
        for x in range(0, width, 8):
            r, g, b = row[3 * x], row[3 * x + 1], row[3 * x + 2]
            total += 1
            hits += bool(test(r, g, b))  # type: ignore[operator]
    return hits / total


@pytest.fixture
def board(tmp_path: Path) -> Iterator[DisplayServer]:
    media = tmp_path / "media"
    media.mkdir()
    shown: list[BoardState] = []
    display = DisplayServer(media, on_shown=shown.append)
    display.start()
    try:
        yield display
    finally:
        display.stop()


@pytest.fixture
def kiosk(browser: Browser) -> Iterator[Page]:
    with new_tab(browser, W, H) as tab:
        yield tab


def _open(kiosk: Page, board: DisplayServer, state: BoardState) -> None:
    board.show(state)
    version = board.state().version
    kiosk.goto(board.url)
    kiosk.wait_for_function(f"document.body.dataset.version === '{version}'")


def test_normal_board_shows_current_next_ticker_and_clock(
    kiosk: Page, board: DisplayServer, tmp_path: Path
) -> None:
    state = BoardState(
        title="Họp thôn Đồng An",
        text="Kính mời bà con dự họp lúc 14 giờ tại nhà văn hóa thôn.",
        next_title="Lịch tiêm chủng tháng 12",
        ticker="Phòng chống bão số 9: theo dõi thông báo của xã.",
        item_id="ann-7@20261201T070000Z#0",
    )
    _open(kiosk, board, state)
    assert kiosk.inner_text("#title") == "Họp thôn Đồng An"
    assert "nhà văn hóa" in kiosk.inner_text("#text")
    assert kiosk.inner_text("#next") == "Tiếp theo: Lịch tiêm chủng tháng 12"
    assert "bão số 9" in kiosk.inner_text("#ticker")
    assert kiosk.locator("#clock").inner_text().count(":") == 2
    assert not kiosk.locator("#emergency").is_visible()
    title_px = kiosk.eval_on_selector("#title", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert title_px >= 0.06 * H  # large type, readable across the village square
    shot = kiosk.screenshot(path=str(_shot_path(tmp_path, "kiosk-normal")))
    assert _share(shot, lambda r, g, b: r > 180 and g < 60 and b < 60) < 0.01


def test_slides_come_from_the_cache(kiosk: Page, board: DisplayServer, tmp_path: Path) -> None:
    name = "a" * 64 + ".png"
    (board.media_dir / name).write_bytes(_png(160, 90, SLIDE_RGB))
    state = BoardState(title="Bản đồ vùng ngập", slides=(BoardSlide(name, 30),))
    _open(kiosk, board, state)
    kiosk.wait_for_function(
        "document.getElementById('slide-img').complete && "
        "document.getElementById('slide-img').naturalWidth === 160"
    )
    assert kiosk.locator("#slide").is_visible()
    shot = kiosk.screenshot(path=str(_shot_path(tmp_path, "kiosk-slides")))
    green = _share(shot, lambda r, g, b: abs(r - 20) < 25 and abs(g - 160) < 25 and b < 90)
    assert green > 0.15, green  # the slide fills a good part of the screen
    # only slides of what is shown are served, nothing else of the disk
    (board.media_dir / ("b" * 64 + ".png")).write_bytes(_png(2, 2, (0, 0, 0)))
    other = kiosk.request.get(board.url + "slides/" + "b" * 64 + ".png")
    assert other.status == 404
    assert kiosk.request.get(board.url + "slides/..%2F..%2Fetc%2Fpasswd").status == 404


def test_emergency_banner_covers_the_screen_in_red(
    kiosk: Page, board: DisplayServer, tmp_path: Path
) -> None:
    _open(kiosk, board, BoardState(title="Tin thường", text="Bình thường."))
    board.show(
        BoardState(
            title="Lũ quét trên suối Khe Ngọ",
            text="Bà con di chuyển ngay lên vùng cao.",
            emergency=True,
        )
    )
    kiosk.wait_for_function("document.body.classList.contains('emergency')", timeout=5000)
    assert kiosk.locator("#emergency").is_visible()
    assert "Lũ quét" in kiosk.inner_text("#emergency")
    shot = kiosk.screenshot(path=str(_shot_path(tmp_path, "kiosk-emergency")))
    red = _share(shot, lambda r, g, b: r > 180 and g < 40 and b < 40)
    assert red > 0.7, red
    # and back to normal when the emergency ends
    board.show(BoardState(title="Tin thường", text="Bình thường."))
    kiosk.wait_for_function("!document.body.classList.contains('emergency')", timeout=5000)
    back = kiosk.screenshot()
    assert _share(back, lambda r, g, b: r > 180 and g < 40 and b < 40) < 0.01
