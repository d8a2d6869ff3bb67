"""The display backend without a browser: what it serves and what it reports."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.backends.display import BoardSlide, BoardState, DisplayServer


@pytest.fixture
def board(tmp_path: Path) -> Iterator[tuple[DisplayServer, list[BoardState]]]:
    shown: list[BoardState] = []
    display = DisplayServer(tmp_path, on_shown=shown.append)
    display.start()
    try:
        yield display, shown
    finally:
        display.stop()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return int(r.status), bytes(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_reports_each_change_once(board: tuple[DisplayServer, list[BoardState]]) -> None:
    display, shown = board
    first = BoardState(title="Họp thôn", text="14 giờ")
    display.show(first)
    display.show(first)  # the same again: nothing new on the screen, no event
    display.show(BoardState(title="Bão", emergency=True))
    assert [s.title for s in shown] == ["Họp thôn", "Bão"]
    assert display.state().version == 2
    assert shown[-1].summary() == "emergency: Bão"
    assert first.summary() == "Họp thôn"


def test_serves_page_state_and_only_current_slides(
    board: tuple[DisplayServer, list[BoardState]], tmp_path: Path
) -> None:
    display, _ = board
    assert display.url.startswith("http://127.0.0.1:")
    name = "c" * 64 + ".png"
    (tmp_path / name).write_bytes(b"\x89PNG fake")
    status, page = _get(display.url)
    assert status == 200 and b"KH\xe1\xba\xa8N C\xe1\xba\xa4P" in page  # "KHẨN CẤP"
    assert _get(display.url + "slides/" + name)[0] == 404  # not shown yet
    display.show(BoardState(title="Bản đồ", slides=(BoardSlide(name, 10),)))
    status, body = _get(display.url + "state.json")
    data = json.loads(body)
    assert status == 200 and data["slides"] == [{"url": f"/slides/{name}", "duration_s": 10}]
    assert _get(display.url + "slides/" + name) == (200, b"\x89PNG fake")
    assert _get(display.url + "elsewhere")[0] == 404
