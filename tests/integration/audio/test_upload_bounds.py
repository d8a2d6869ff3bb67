"""Hostile uploads against real ffmpeg/ffprobe: decoding is bounded in time and bytes, and a
file can never make ffmpeg read another file or fetch a URL (security issue 14, hole 4)."""

from __future__ import annotations

import http.server
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.audio_files import lying_mp3, mp3_tone
from support.disk import PeakSize

from audio.errors import AudioRejected
from audio.media_store import MediaStore
from audio.pipeline import SpeechRenderer
from audio.uploads import UploadLimits

from .conftest import CountingEspeak, store_files

pytestmark = pytest.mark.integration

LIMITS = UploadLimits(max_bytes=16 * 1024 * 1024, max_duration_s=30)


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every temporary folder the importer makes lands here, where it can be measured."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def renderer(store: MediaStore) -> SpeechRenderer:
    return SpeechRenderer(store, engines=[CountingEspeak()], upload_limits=LIMITS)


def test_mp3_claiming_one_second_but_holding_an_hour_is_refused_within_the_bound(
    renderer: SpeechRenderer, store: MediaStore, tmp_path: Path, temp_root: Path
) -> None:
    """Before the fix the whole hour was decoded (173 MB of WAV in the temp dir) before the
    length check; now decoding stops at the limit + 1 s and the reason says why."""
    data = lying_mp3(tmp_path, minutes=60)
    cap_bytes = 2 * 1024 * 1024  # 31 s of 24 kHz mono WAV is 1.5 MB
    began = time.monotonic()
    with PeakSize(temp_root) as temp, pytest.raises(AudioRejected) as refused:
        renderer.import_upload(data, "ban-tin.mp3")
    elapsed = time.monotonic() - began
    assert temp.peak <= len(data) + cap_bytes, f"temp dir reached {temp.peak / 1e6:.1f} MB"
    assert elapsed < 10, f"refusal took {elapsed:.1f} s"
    assert refused.value.reason == "ban-tin.mp3: the recording is longer than the limit of 0.5 min"
    assert store_files(store) == []
    assert list(temp_root.iterdir()) == []


def test_header_lie_under_the_limit_is_decoded_for_what_it_holds(
    store: MediaStore, tmp_path: Path
) -> None:
    """A header that undercounts but stays under the limit is no attack: the real length wins."""
    limits = UploadLimits(max_bytes=LIMITS.max_bytes, max_duration_s=120)
    renderer = SpeechRenderer(store, engines=[CountingEspeak()], upload_limits=limits)
    media = renderer.import_upload(lying_mp3(tmp_path, minutes=1), "ngan.mp3")
    assert media.duration_s == pytest.approx(61, abs=1.5)


class CountingHttp:
    """A local HTTP server that serves a real MP3 and counts every request it gets."""

    def __init__(self, body: bytes) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def http_mp3(tmp_path: Path) -> Iterator[CountingHttp]:
    server = CountingHttp(mp3_tone(tmp_path / "served.mp3", 3.0))
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def _hls(uri: str) -> bytes:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\n{uri}\n#EXT-X-ENDLIST\n".encode()


@pytest.mark.parametrize(
    "playlist",
    ["hls-absolute-path", "hls-file-url", "hls-etc-passwd", "hls-http", "ffconcat-beside"],
)
def test_playlist_posing_as_mp3_reads_nothing_else(
    renderer: SpeechRenderer,
    store: MediaStore,
    tmp_path: Path,
    http_mp3: CountingHttp,
    playlist: str,
) -> None:
    """Before the fix, an HLS playlist named .mp3 that lists another commune's recording by
    absolute path, or an ffconcat list naming a file beside the upload, was imported: the
    controller read a file it was never given and served it back as new media."""
    secret = tmp_path / "private"
    secret.mkdir()
    secret_mp3 = secret / "other-commune.mp3"
    mp3_tone(secret_mp3, 3.0)
    body = {
        "hls-absolute-path": _hls(str(secret_mp3)),
        "hls-file-url": _hls(f"file://{secret_mp3}"),
        "hls-etc-passwd": _hls("/etc/passwd"),
        "hls-http": _hls(f"{http_mp3.url}/x.mp3"),
        "ffconcat-beside": b"ffconcat version 1.0\nfile other-commune.mp3\n",
    }[playlist]
    upload = secret / "upload.mp3"  # as the API spools it: a file in a folder
    upload.write_bytes(body)
    with pytest.raises(AudioRejected, match="not an audio file ffmpeg can read"):
        renderer.import_upload(upload, "thong-bao.mp3")
    assert store_files(store) == []
    assert http_mp3.requests == []
