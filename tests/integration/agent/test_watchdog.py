"""The systemd watchdog path: a real unix datagram socket as ``NOTIFY_SOCKET`` receives
``WATCHDOG=1`` while the playout clock steps, and nothing once the clock is stuck (here: a
player call that never returns), so systemd would restart the agent."""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.backends.amplifier import NoopAmplifier
from agent.backends.player import Playback, Player, PlayRequest
from agent.backends.volume import NoopVolume
from agent.played_log import PlayedLog
from agent.playout import Playout, Source
from agent.systemd_notify import watchdog_loop
from protocol.clock import SystemClock
from protocol.models import ItemKind, MediaRef, Playlist, PlaylistItem


class HangingPlayer(Player):
    """``play`` blocks until released: a stuck player/IPC call on the clock thread."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def play(self, request: PlayRequest) -> Playback:
        self.entered.set()
        self.release.wait(30)
        raise OSError("released")


def received(sock: socket.socket) -> list[bytes]:
    out = []
    while True:
        try:
            out.append(sock.recv(256))
        except BlockingIOError:
            return out


def test_a_stalled_playout_clock_stops_the_watchdog_pings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(address))
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(address))
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # a ping every 50 ms
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))

    player = HangingPlayer()
    playout = Playout(
        SystemClock(),
        player,
        NoopAmplifier(),
        NoopVolume(),
        PlayedLog(tmp_path / "played.sqlite"),
        lambda *_: None,
        lambda _item: Source("/dev/null"),
    )
    playout.stall_after_s = 1.0
    start = datetime.now(UTC) + timedelta(seconds=1.5)
    media = MediaRef(sha256="c" * 64, ext="wav", size=1, duration_s=5)
    playout.set_playlist(
        Playlist(
            node_id="n1",
            version=1,
            generated_at=start,
            window_start=start - timedelta(minutes=1),
            window_end=start + timedelta(hours=1),
            items=[
                PlaylistItem(id="x", kind=ItemKind.AUDIO, start=start, duration_s=5, media=media)
            ],
        )
    )
    stop = threading.Event()
    loop = threading.Thread(target=watchdog_loop, args=(stop, playout.alive))
    playout.start()
    loop.start()
    try:
        assert player.entered.wait(10), "the item never started"
        healthy = received(sock)
        assert healthy and set(healthy) == {b"WATCHDOG=1"}  # pinged while the clock stepped
        # the clock thread is now stuck in play(): within stall_after_s the pings stop
        deadline = time.monotonic() + 5
        while playout.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not playout.alive()
        time.sleep(0.1)  # a ping decided just before the stall was seen may still land
        received(sock)
        time.sleep(0.5)  # ten ping periods
        assert received(sock) == []
    finally:
        stop.set()
        player.release.set()
        loop.join(5)
        playout.stop()
        sock.close()
