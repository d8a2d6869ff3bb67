"""The board preview of the compose page: the agent's own kiosk page, fed a composed state.

The composed board travels in the preview's address (``/panel/announcements/board-preview/
{token}/``, the token being base64url JSON), so the page's relative ``state.json`` request
names it again and the server keeps nothing. Slides are shown from the controller's media
route (same origin); the page loads nothing from anywhere else (a strict CSP says so).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_TOKEN_CHARS = 12_000
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'"
)


class PreviewSlide(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    ext: Literal["png", "jpg"]
    duration_s: Annotated[float, Field(gt=0, le=3600)] = 10.0


class PreviewBoard(BaseModel):
    """What the operator composed (titles and texts as typed, limits as on the wire)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(max_length=500)] = ""
    text: Annotated[str, Field(max_length=2000)] = ""
    ticker: Annotated[str, Field(max_length=500)] = ""
    slides: Annotated[list[PreviewSlide], Field(max_length=50)] = []


def encode(board: PreviewBoard) -> str:
    raw = json.dumps(board.model_dump(), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str) -> PreviewBoard | None:
    """The board in ``token``, or None for anything that is not one."""
    if len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return PreviewBoard.model_validate(json.loads(raw))
    except (binascii.Error, ValueError, ValidationError):
        return None


def kiosk_state(board: PreviewBoard) -> dict[str, Any]:
    """The state the kiosk page polls, in the agent's ``BoardState.to_json`` form."""
    return {
        "title": board.title,
        "text": board.text,
        "next_title": "",
        "next_text": "",
        "slides": [
            {"url": f"/media/{s.sha256}.{s.ext}", "duration_s": s.duration_s} for s in board.slides
        ],
        "ticker": board.ticker,
        "emergency": False,
        "item_id": None,
        "version": 1,
    }
