"""The e-board: a kiosk page served on loopback for Chromium in kiosk mode (HDMI screen).

Standard library only (``http.server``), bound to 127.0.0.1. The page polls ``/state.json``
once a second and shows the current and next bulletins' text in large Vietnamese type, the
current item's slides from the agent's media cache, a ticker, the clock, and a full-screen
red banner during an emergency. It needs nothing from the network: slides are served from
the cache the agent already keeps, so the board keeps working when the link is down.

``show(state)`` replaces what is shown; ``on_shown`` is told of every change (the agent turns
it into an event, like audio starts), so the controller knows what each screen displayed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from protocol.kiosk import kiosk_page

_SLIDE_TYPES = {"png": "image/png", "jpg": "image/jpeg"}


@dataclass(frozen=True)
class BoardSlide:
    filename: str
    """``{sha256}.{ext}`` in the media cache."""
    duration_s: float


@dataclass(frozen=True)
class BoardState:
    """Everything the screen shows at one moment (all text already in Vietnamese)."""

    title: str = ""
    text: str = ""
    next_title: str = ""
    next_text: str = ""
    slides: tuple[BoardSlide, ...] = ()
    ticker: str = ""
    emergency: bool = False
    item_id: str | None = None
    version: int = 0

    def summary(self) -> str:
        """One line for the event log: what the screen shows now."""
        if self.emergency:
            return f"emergency: {self.title}"[:500]
        parts = [self.title or "(idle)"]
        if self.slides:
            parts.append(f"{len(self.slides)} slides")
        if self.next_title:
            parts.append(f"next: {self.next_title}")
        return "; ".join(parts)[:500]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["slides"] = [
            {"url": f"/slides/{s.filename}", "duration_s": s.duration_s} for s in self.slides
        ]
        return data


@dataclass
class DisplayServer:
    """Serve the kiosk page on ``127.0.0.1:port`` (0: any free port) from ``media_dir``."""

    media_dir: Path
    port: int = 0
    on_shown: Callable[[BoardState], None] | None = None
    _state: BoardState = field(default_factory=BoardState)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="display", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def show(self, state: BoardState) -> None:
        """Show ``state`` from the next poll on; report it when it differs from before."""
        with self._lock:
            changed = _visible(state) != _visible(self._state)
            if changed:
                self._state = replace(state, version=self._state.version + 1)
        if changed and self.on_shown is not None:
            self.on_shown(state)

    def state(self) -> BoardState:
        with self._lock:
            return self._state

    def slide_path(self, name: str) -> Path | None:
        """Only a slide of what is shown now, and only from the cache directory."""
        if name not in {s.filename for s in self.state().slides}:
            return None
        path = self.media_dir / name
        return path if path.is_file() else None


def _visible(state: BoardState) -> tuple[object, ...]:
    data = asdict(state)
    data.pop("version")
    return tuple(sorted((k, repr(v)) for k, v in data.items()))


def _handler(display: DisplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/":
                self._send(HTTPStatus.OK, "text/html; charset=utf-8", kiosk_page())
            elif path == "/state.json":
                body = json.dumps(display.state().to_json(), ensure_ascii=False).encode()
                self._send(HTTPStatus.OK, "application/json", body)
            elif path.startswith("/slides/"):
                name = path.removeprefix("/slides/")
                found = display.slide_path(name)
                if found is None:
                    self._send(HTTPStatus.NOT_FOUND, "text/plain", b"no such slide")
                else:
                    kind = _SLIDE_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")
                    self._send(HTTPStatus.OK, kind, found.read_bytes())
            else:
                self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")

        def _send(self, status: HTTPStatus, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # one request a second from the kiosk: not worth a log line

    return Handler
