"""gTTS against a fake Google endpoint on 127.0.0.1 (real requests, real sockets, real
timeouts): gTTS builds its https://translate.google.com URL; a requests adapter sends it
to our loopback server instead."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from support.audio_files import tone

from audio.engines.connectivity import ConnectivityProbe
from audio.engines.google import GoogleTtsEngine
from audio.media_store import MediaStore
from audio.pipeline import SpeechRenderer

from .conftest import CountingEspeak

pytestmark = pytest.mark.integration


def _mp3_of_a_tone() -> bytes:
    return tone(2, "mp3", "-b:a", "32k", frequency=300)


class FakeGoogle(ThreadingHTTPServer):
    daemon_threads = True
    mode = "ok"  # ok | hang | error
    audio = b""
    requests_seen = 0


class Handler(BaseHTTPRequestHandler):
    server: FakeGoogle

    def do_POST(self) -> None:
        self.server.requests_seen += 1
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.server.mode == "hang":
            time.sleep(3)
            return
        if self.server.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        b64 = base64.b64encode(self.server.audio).decode()
        body = f')]}}\'\n\n[["wrb.fr","jQ1olc","[\\"{b64}\\"]",null,null,null,"generic"]]\n'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_google(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    server = FakeGoogle(("127.0.0.1", 0), Handler)
    server.audio = _mp3_of_a_tone()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]

    class Loopback(HTTPAdapter):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            parts = urlsplit(request.url or "")
            assert parts.hostname == "translate.google.com"
            request.url = f"http://{host!s}:{port}{parts.path}?{parts.query}"
            kwargs["proxies"] = {}
            return super().send(request, **kwargs)

    adapter = Loopback()
    monkeypatch.setattr(requests.Session, "get_adapter", lambda self, url: adapter)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _engine(server: FakeGoogle, timeout_s: float = 0.5) -> GoogleTtsEngine:
    port = server.server_address[1]
    return GoogleTtsEngine(ConnectivityProbe("127.0.0.1", int(port)), timeout_s=timeout_s)


def test_gtts_speaks_through_the_pipeline(fake_google: FakeGoogle, tmp_path: Any) -> None:
    espeak = CountingEspeak()
    renderer = SpeechRenderer(MediaStore(tmp_path), engines=[_engine(fake_google), espeak])
    media = renderer.render_text("UBND xã thông báo.")
    assert media.engine == "gtts" and espeak.calls == []
    assert fake_google.requests_seen >= 1
    assert 4 < media.duration_s < 7  # ~2 s of tone (trimmed) + chimes


def test_a_hanging_server_times_out_and_espeak_takes_over(
    fake_google: FakeGoogle, tmp_path: Any
) -> None:
    fake_google.mode = "hang"
    gtts = _engine(fake_google, timeout_s=0.5)
    espeak = CountingEspeak()
    renderer = SpeechRenderer(MediaStore(tmp_path), engines=[gtts, espeak])
    offline_only = _espeak_only_seconds(tmp_path, "Thông báo khẩn.")
    start = time.monotonic()
    media = renderer.render_text("Thông báo khẩn.")
    # the hang costs the 0.5 s timeout (plus slack), measured against espeak-ng alone
    assert time.monotonic() - start < offline_only + 2.0
    assert media.engine == "espeak-ng" and len(espeak.calls) == 1
    assert "gTTS failed" in (gtts.probe.unreachable_reason() or "")  # remembered as down
    seen = fake_google.requests_seen
    renderer.render_text("Thông báo thứ hai.")
    assert fake_google.requests_seen == seen  # no second wait on a dead host


def test_server_error_falls_through(fake_google: FakeGoogle, tmp_path: Any) -> None:
    fake_google.mode = "error"
    renderer = SpeechRenderer(
        MediaStore(tmp_path), engines=[_engine(fake_google), CountingEspeak()]
    )
    assert renderer.render_text("Xin chào.").engine == "espeak-ng"


def test_gtts_is_skipped_without_a_request_when_offline(tmp_path: Any) -> None:
    with_closed_port = ConnectivityProbe("127.0.0.1", 9, timeout_s=0.3)
    renderer = SpeechRenderer(
        MediaStore(tmp_path), engines=[GoogleTtsEngine(with_closed_port), CountingEspeak()]
    )
    offline_only = _espeak_only_seconds(tmp_path, "Xin chào.")
    start = time.monotonic()
    assert renderer.render_text("Xin chào.").engine == "espeak-ng"
    assert time.monotonic() - start < offline_only + 1.5  # the 0.3 s probe, not a request


def _espeak_only_seconds(tmp_path: Any, text: str) -> float:
    """The same text rendered by espeak-ng alone, in this run: the baseline that makes the
    bounds above hold on a loaded machine (parallel test workers) as on a quiet one."""
    start = time.monotonic()
    SpeechRenderer(MediaStore(tmp_path / "baseline"), engines=[CountingEspeak()]).render_text(text)
    return time.monotonic() - start
