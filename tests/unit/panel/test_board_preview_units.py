"""The board preview's address carries the composed board; anything else is not a board."""

from __future__ import annotations

import base64

from controller.panel import board_preview
from controller.panel.board_preview import PreviewBoard, PreviewSlide


def test_a_board_survives_its_token_and_becomes_the_kiosk_state() -> None:
    board = PreviewBoard(
        title="Họp dân",
        text="Mời bà con họp lúc 8 giờ.",
        ticker="Thôn Đông",
        slides=[PreviewSlide(sha256="a" * 64, ext="png", duration_s=4)],
    )
    token = board_preview.encode(board)
    assert "=" not in token and "/" not in token and "+" not in token
    assert board_preview.decode(token) == board
    state = board_preview.kiosk_state(board)
    assert state["slides"] == [{"url": f"/media/{'a' * 64}.png", "duration_s": 4.0}]
    assert (state["text"], state["ticker"], state["emergency"]) == (board.text, "Thôn Đông", False)


def test_what_is_not_a_board_decodes_to_none() -> None:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    for token in (
        "%%%",
        b64(b"not json"),
        b64(b"[1, 2]"),
        b64(b'{"slides": [{"sha256": "../../etc/passwd", "ext": "png"}]}'),
        b64(b'{"slides": [{"sha256": "' + b"a" * 64 + b'", "ext": "svg"}]}'),
        b64(b'{"text": "x", "script": "alert(1)"}'),
        "A" * (board_preview.MAX_TOKEN_CHARS + 1),
    ):
        assert board_preview.decode(token) is None, token
