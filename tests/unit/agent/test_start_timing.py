"""The path from the scheduled instant to ``play()``: the clock thread wakes ``WAKE_EARLY_S``
before a start and waits out the rest itself; it may run at real-time priority; a full
watchdog socket never holds the watchdog thread. The schedule runs on a FakeClock and the
final wait is a recorder that moves it (nothing sleeps to check the schedule)."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.backends.amplifier import NoopAmplifier
from agent.backends.player import Playback, Player, PlayRequest, SilentPlayback
from agent.backends.volume import NoopVolume
from agent.played_log import PlayedLog
from agent.playout import PRELOAD_S, WAKE_EARLY_S, Playout, PlayoutConfig, Source
from agent.realtime import current_priority, promote_current_thread
from agent.stepping import Step, StepHandle
from agent.systemd_notify import notify
from protocol.clock import FakeClock
from protocol.models import ItemKind, MediaRef, Playlist, PlaylistItem

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
MEDIA = MediaRef(sha256="a" * 64, ext="mp3", size=10, duration_s=10)


class Recorder(Player):
    """Notes when (fake clock) each play came and at which priority its thread ran."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.plays: list[datetime] = []
        self.priorities: list[int] = []
        self.played = threading.Event()

    def play(self, request: PlayRequest) -> Playback:
        self.plays.append(self.clock.now())
        self.priorities.append(current_priority())
        self.played.set()
        return SilentPlayback()


def build(
    tmp_path: Path, clock: FakeClock, player: Player, waits: list[float], rt: int = 0
) -> Playout:
    def wait(seconds: float) -> None:  # the precise wait, on the fake clock
        waits.append(seconds)
        clock.advance(seconds)

    return Playout(
        clock,
        player,
        NoopAmplifier(),
        NoopVolume(),
        PlayedLog(tmp_path / "played.sqlite"),
        lambda *_: None,
        lambda item: Source(f"/media/{item.id}"),
        PlayoutConfig(rt_priority=rt),
        wait=wait,
    )


def playlist(start: datetime) -> Playlist:
    item = PlaylistItem(id="i1", kind=ItemKind.AUDIO, start=start, duration_s=10, media=MEDIA)
    return Playlist(
        node_id="n1",
        version=1,
        generated_at=T0,
        window_start=T0,
        window_end=T0 + timedelta(hours=1),
        items=[item],
    )


def test_the_clock_wakes_early_and_the_starting_step_runs_on_the_instant(
    tmp_path: Path,
) -> None:
    clock = FakeClock(T0)
    player, waits = Recorder(clock), []
    playout = build(tmp_path, clock, player, waits)
    start = T0 + timedelta(seconds=600)
    playout.set_playlist(playlist(start))
    clock.advance(600 - PRELOAD_S)
    # the step that preloads sleeps until WAKE_EARLY_S before the start, not to the start
    assert playout._timed_step() == pytest.approx(PRELOAD_S - WAKE_EARLY_S)
    clock.advance(PRELOAD_S - 0.015)  # the timed wait came back 15 ms before the start
    assert playout._timed_step() == 0.0  # waited out the rest itself: step again at once
    assert waits == [pytest.approx(0.015)] and player.plays == []
    playout._timed_step()
    assert player.plays == [start]  # exactly on the instant
    assert not waits[1:]  # nothing else waited: the next wake is the item's end, far off


def test_the_final_wait_is_never_longer_than_the_early_wake(tmp_path: Path) -> None:
    """However late the timed wait returns, the clock thread waits at most WAKE_EARLY_S
    itself, so the watchdog's freshness check (seconds) never sees the wait."""
    clock = FakeClock(T0)
    player, waits = Recorder(clock), []
    playout = build(tmp_path, clock, player, waits)
    start = T0 + timedelta(seconds=10)
    playout.set_playlist(playlist(start))
    sleeps = []
    for step_at in (5.0, 9.0, 9.97, 9.99):
        clock.advance((T0 + timedelta(seconds=step_at) - clock.now()).total_seconds())
        sleeps.append(playout._timed_step())  # (5.0: the amplifier lead at 8.0 first)
    assert sleeps[:3] == [pytest.approx(3.0), pytest.approx(0.98), pytest.approx(0.01)]
    assert sleeps[3] == 0.0 and waits == [pytest.approx(0.01)]
    assert all(0 < w <= WAKE_EARLY_S for w in waits)
    playout._timed_step()
    assert player.plays == [start]


def can_promote() -> bool:
    """Whether this machine grants SCHED_FIFO (root, CAP_SYS_NICE or RLIMIT_RTPRIO)."""
    box: list[bool] = []
    probe = threading.Thread(target=lambda: box.append(promote_current_thread(1)))
    probe.start()
    probe.join()
    return box[0]


def test_promotion_changes_only_the_calling_thread() -> None:
    box: list[tuple[bool, int]] = []

    def run() -> None:
        box.append((promote_current_thread(3), current_priority()))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    granted, priority = box[0]
    assert priority == (3 if granted else 0)
    assert current_priority() == 0  # this thread is untouched
    assert promote_current_thread(0) is False  # 0 = ordinary scheduling, nothing asked


def test_the_clock_thread_runs_at_its_rt_priority(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    player, waits = Recorder(clock), []
    playout = build(tmp_path, clock, player, waits, rt=4)
    playout.set_playlist(playlist(T0))  # due now: the first step plays
    playout.start()
    try:
        assert player.played.wait(10)
    finally:
        playout.stop()
    assert player.priorities == [4 if can_promote() else 0]


class SharedStepper:
    """A stepper running steps on a thread that is not the worker's own (loadsim's kind)."""

    def attach(self, name: str, step: Step) -> StepHandle:
        class Handle:
            def __init__(self) -> None:
                self.thread = threading.Thread(target=step)
                self.thread.start()

            def poke(self) -> None: ...

            def alive(self) -> bool:
                return True

            def detach(self, timeout: float = 5.0) -> None:
                self.thread.join(timeout)

        return Handle()


def test_a_shared_steppers_thread_is_never_promoted(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    player, waits = Recorder(clock), []
    playout = build(tmp_path, clock, player, waits, rt=4)
    playout.set_playlist(playlist(T0))
    playout.start(SharedStepper())
    try:
        assert player.played.wait(10)
    finally:
        playout.stop()
    assert player.priorities == [0]


def test_a_full_notify_socket_drops_the_ping_instead_of_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """systemd not reading (or a test reading late): the watchdog thread must not hang in a
    send and then deliver a stale ping after the clock stalled."""
    address = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(str(address))  # never read
        monkeypatch.setenv("NOTIFY_SOCKET", str(address))
        results: list[bool] = []

        def fill() -> None:
            for _ in range(1000):  # far beyond net.unix.max_dgram_qlen
                results.append(notify("WATCHDOG=1"))

        sender = threading.Thread(target=fill, daemon=True)
        sender.start()
        sender.join(10)
        assert not sender.is_alive(), "notify blocked on a full socket"
        assert results[0] is True and results[-1] is False


def test_what_the_promoted_thread_starts_runs_at_ordinary_priority() -> None:
    """The clock thread starts the update thread, amixer and players: none of them may
    inherit its real-time priority (an update's pip install at SCHED_FIFO)."""
    box: list[int] = []

    def run() -> None:
        if promote_current_thread(3):
            child = threading.Thread(target=lambda: box.append(current_priority()))
            child.start()
            child.join()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if not can_promote():
        pytest.skip("this machine grants no real-time priority")
    assert box == [0]
