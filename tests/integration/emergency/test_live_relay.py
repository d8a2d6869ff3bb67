"""Live from the operator over real servers on loopback: PCM in → ffmpeg → Icecast → a
listener decoding the mount like an agent's player. Measures mouth-to-speaker delay: a tone
burst is written into the feed at a known instant and detected in the decoded stream."""

from __future__ import annotations

import array
import math
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration.emergency.icecast_server import IcecastServer

from controller.services.live_relay import IcecastFeed, IcecastTarget, LiveRelayError

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("icecast2") is None, reason="icecast2 is not installed"),
]

RATE = 22050
CHUNK_S = 0.05
MAX_DELAY_S = 5.0  # "only a few seconds"


def pcm(seconds: float, tone_hz: float | None = None) -> bytes:
    n = int(RATE * seconds)
    if tone_hz is None:
        return bytes(2 * n)
    wave = [int(12000 * math.sin(2 * math.pi * tone_hz * i / RATE)) for i in range(n)]
    return array.array("h", wave).tobytes()


@pytest.fixture
def icecast() -> Iterator[IcecastServer]:
    # not tmp_path: its parents are 0700 and Icecast (dropped to nobody when run as root)
    # must reach its log directory
    workdir = Path(tempfile.mkdtemp(prefix="loa-icecast-"))
    server = IcecastServer(workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


class Listener:
    """ffmpeg reading the mount and decoding to PCM, like ``ffplay``/``mpv`` on an agent."""

    def __init__(self, url: str) -> None:
        self.proc = subprocess.Popen(
            [
                "ffmpeg", "-hide_banner", "-loglevel", "error",
                "-fflags", "nobuffer", "-probesize", "2048", "-analyzeduration", "0",
                "-i", url, "-f", "s16le", "-ac", "1", "-ar", str(RATE), "pipe:1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.first_audio: float | None = None
        self.tone_at: float | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read(int(RATE * 0.02) * 2):
            now = time.time()
            self.first_audio = self.first_audio or now
            samples = array.array("h", chunk[: len(chunk) // 2 * 2])
            loud = max((abs(s) for s in samples), default=0)
            if loud > 4000 and self.tone_at is None:
                self.tone_at = now

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def test_operator_voice_reaches_a_listener_within_a_few_seconds(icecast: IcecastServer) -> None:
    target = IcecastTarget("127.0.0.1", icecast.port, "/live.mp3", icecast.password)
    feed = IcecastFeed(target, ["-f", "s16le", "-ar", str(RATE), "-ac", "1"])
    feed.start()
    listener: Listener | None = None
    try:
        deadline = time.monotonic() + 10
        while not icecast.has_source("/live.mp3") and time.monotonic() < deadline:
            feed.write(pcm(CHUNK_S))  # the mount exists once the source sends
            time.sleep(CHUNK_S)
        assert icecast.has_source("/live.mp3"), icecast.error_log()
        listener = Listener(target.listen_url)
        deadline = time.monotonic() + 10
        while listener.first_audio is None and time.monotonic() < deadline:
            feed.write(pcm(CHUNK_S))
            time.sleep(CHUNK_S)
        assert listener.first_audio is not None, icecast.error_log()
        for _ in range(int(1.0 / CHUNK_S)):
            feed.write(pcm(CHUNK_S))
            time.sleep(CHUNK_S)
        spoken_at = time.time()
        feed.write(pcm(0.3, tone_hz=880))
        deadline = time.monotonic() + MAX_DELAY_S + 5
        while listener.tone_at is None and time.monotonic() < deadline:
            feed.write(pcm(CHUNK_S))
            time.sleep(CHUNK_S)
        assert listener.tone_at is not None, "the tone never reached the listener"
        delay = listener.tone_at - spoken_at
        print(f"live relay delay: {delay:.3f} s")
        assert 0 < delay < MAX_DELAY_S
    finally:
        if listener is not None:
            listener.stop()
        feed.stop()


def test_wrong_source_password_is_reported(icecast: IcecastServer) -> None:
    target = IcecastTarget("127.0.0.1", icecast.port, "/live.mp3", "wrong")
    feed = IcecastFeed(target, ["-f", "s16le", "-ar", str(RATE), "-ac", "1"])
    feed.start()
    try:
        with pytest.raises(LiveRelayError):
            for _ in range(100):
                feed.write(pcm(CHUNK_S))
                time.sleep(CHUNK_S)
    finally:
        feed.stop()


def test_bad_mount_is_refused_before_anything_starts() -> None:
    with pytest.raises(LiveRelayError, match="bad Icecast mount"):
        IcecastTarget("127.0.0.1", 8000, "live mp3", "x")
