"""``loa bench sound-start``: from the scheduled instant to the first audio the player produces.

The agent's real playout clock (``agent.playout.Playout`` on the system clock) plays
``--items`` scheduled items ``--spacing`` s apart through the real ``mpv --ao=alsa`` into
the file-backed ALSA PCM of ``loadsim.bench._alsa_capture`` (a ``file`` plugin writing into a
FIFO that a reader process of its own drains and time-stamps, so the reader never competes
with the playout clock for this process's GIL). Each item is a square wave, audible from its
first frame; its latency is the arrival time of the first non-silent frame at the FIFO minus
the item's scheduled start (same wall clock, same machine). That is the moment the player
handed its first audio to ALSA; a real card adds its fixed output delay after it.

Two runs in one invocation: ``player`` (the persistent mpv: preloaded paused, unpaused at the
instant) and ``baseline_spawn_ms`` (a fresh ``mpv`` process per item, the old agent).

``breakdown_ms`` splits each persistent start along its path, all stamps on the wall clock:
``wake`` scheduled instant -> the playout step that starts it reads the clock (its timed
wait ending, and waiting for a core); ``step`` -> that step calls ``play()`` (the step's own
work, the GIL); ``to_ipc`` -> the unpause is handed to mpv's socket; ``mpv`` -> the first
sound reaches the capture (mpv's IPC, core and audio threads, ALSA's file plugin, the
reader's wake-up). ``worst`` gives the whole path of the slowest items, so a p99 is placed.
The capture reader runs at real-time priority when the machine allows it (``reader_rt``), so
its own wake-up is not counted as the player's. ``--hogs N`` adds N busy processes and
``--gil-busy`` a busy Python thread in the measured process (the agent's MQTT/JSON work)
for a load that is the same in the runs to compare.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.backends.mpv_ipc import MpvProcess, PersistentMpvPlayer
from agent.backends.player import Playback, Player, PlayRequest
from loadsim.bench._alsa_capture import AlsaCapture, first_sound_at, write_square_wav
from loadsim.bench._report import add_json_flag, emit
from loadsim.bench._support import percentiles
from protocol.clock import SystemClock

TARGET_P99_MS = 20.0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "sound-start", help="scheduled instant -> first audio from the real player (ALSA)"
    )
    add_json_flag(parser)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=3.5, help="seconds between starts")
    parser.add_argument("--hogs", type=int, default=0, help="busy processes during the runs")
    parser.add_argument(
        "--gil-busy", action="store_true", help="a busy Python thread in the measured process"
    )
    parser.add_argument("--no-spawn", action="store_true", help="skip the spawned-mpv baseline run")
    parser.add_argument(
        "--rt-priority",
        type=int,
        default=None,
        help="the agent's rt_priority (default: the agent's default); 0 = ordinary",
    )
    parser.set_defaults(handler=run)


class _Timed(Player):
    """Wraps the player: notes when the playout clock called ``play`` (wall clock), so the
    scheduler's share of a latency can be told from the player's."""

    def __init__(self, inner: Player) -> None:
        self.inner = inner
        self.calls: dict[str, float] = {}
        self.returns: dict[str, float] = {}

    def play(self, request: PlayRequest) -> Playback:
        self.calls[request.item_id] = time.time()
        try:
            return self.inner.play(request)
        finally:
            self.returns[request.item_id] = time.time()

    def prepare(self, request: PlayRequest) -> None:
        self.inner.prepare(request)

    def warm_up(self) -> None:
        self.inner.warm_up()

    def close(self) -> None:
        self.inner.close()


class _TracingClock(SystemClock):
    """The system clock, noting when each ``now()`` was read: a playout step reads it first,
    so the last read before a ``play()`` call is when the step that started the item woke."""

    def __init__(self) -> None:
        self.reads: list[float] = []

    def now(self) -> datetime:
        self.reads.append(time.time())
        return super().now()

    def woke_before(self, at: float) -> float | None:
        earlier = [r for r in self.reads if r <= at]
        return earlier[-1] if earlier else None


class _TracedMpv(PersistentMpvPlayer):
    """The product's persistent mpv; notes when each unpause is handed to mpv's socket."""

    def __init__(self, extra_args: list[str], rt_priority: int) -> None:
        super().__init__(extra_args, rt_priority=rt_priority)
        self.unpauses: list[float] = []

    def _process(self) -> MpvProcess:
        proc = super()._process()
        if not getattr(proc, "_traced", False):
            inner = proc.command

            def command(*args: Any, timeout: float = 2.0) -> Any:
                if args[:3] == ("set_property", "pause", False):
                    self.unpauses.append(time.time())
                return inner(*args, timeout=timeout)

            setattr(proc, "command", command)  # noqa: B010  (an instance, not the class)
            setattr(proc, "_traced", True)  # noqa: B010
        return proc

    def unpause_after(self, at: float) -> float | None:
        later = [u for u in self.unpauses if u >= at]
        return later[0] if later else None


@dataclass
class _Run:
    """One run's figures (ms): per heard item the latency, and for the persistent player the
    stamps along the path (``breakdown``)."""

    latencies: list[float] = field(default_factory=list)
    unheard: int = 0
    stats: dict[str, int] = field(default_factory=dict)
    called: list[float] = field(default_factory=list)
    after_call: list[float] = field(default_factory=list)
    paths: list[dict[str, float]] = field(default_factory=list)


def _run_player(
    cap: AlsaCapture,
    work: Path,
    make_player: Callable[[], Player],
    items: int,
    spacing: float,
    rt_priority: int,
) -> _Run:
    """Play ``items`` through the real playout clock and take the figures of :class:`_Run`."""
    from agent.backends.amplifier import NoopAmplifier
    from agent.backends.volume import NoopVolume
    from agent.played_log import PlayedLog
    from agent.playout import PRELOAD_S, Playout, PlayoutConfig, Source
    from protocol.models import ItemKind, MediaRef, Playlist, PlaylistItem

    work.mkdir(parents=True)
    wav = work / "tone.wav"
    # long enough for a spawned mpv to start before the clock stops it; ends PRELOAD_S+0.5 s
    # before the next start, so the persistent player can preload the next item
    duration = max(0.3, spacing - PRELOAD_S - 0.5)
    write_square_wav(wav, duration)
    media = MediaRef(sha256="0" * 64, ext="wav", size=wav.stat().st_size, duration_s=duration)
    first = datetime.now(UTC) + timedelta(seconds=3)
    starts = [first + timedelta(seconds=spacing * n) for n in range(items)]
    plan = [
        PlaylistItem(id=f"s-{n}", kind=ItemKind.AUDIO, start=s, duration_s=duration, media=media)
        for n, s in enumerate(starts)
    ]
    now = datetime.now(UTC)
    playlist = Playlist(
        node_id="bench",
        version=1,
        generated_at=now,
        window_start=now,
        window_end=now + timedelta(hours=1),
        items=plan,
    )
    inner = make_player()
    player = _Timed(inner)
    clock = _TracingClock()
    played = PlayedLog(work / "played.sqlite")
    playout = Playout(
        clock,
        player,
        NoopAmplifier(),
        NoopVolume(),
        played,
        lambda *_: None,
        lambda _item: Source(str(wav)),
        PlayoutConfig(rt_priority=rt_priority),  # as the agent's runtime builds it
    )
    mark = cap.mark()
    playout.set_playlist(playlist)
    playout.start()
    try:
        while datetime.now(UTC) < starts[-1] + timedelta(seconds=duration + 1.0):
            time.sleep(0.2)
    finally:
        playout.stop()
        played.close()
    chunks = cap.since(mark)
    out = _Run(stats=dict(getattr(inner, "stats", {})))
    for n, start in enumerate(starts):
        t0 = start.timestamp()
        call = player.calls.get(f"s-{n}")
        if call is not None:
            out.called.append((call - t0) * 1000)
        window = [c for c in chunks if t0 - 0.5 <= c.at < t0 + duration]
        heard = first_sound_at(window)
        if heard is None:
            out.unheard += 1
            continue
        out.latencies.append((heard - t0) * 1000)
        if call is None:
            continue
        out.after_call.append((heard - call) * 1000)
        woke = clock.woke_before(call)
        sent = inner.unpause_after(call) if isinstance(inner, _TracedMpv) else None
        if woke is not None and sent is not None and sent <= heard:
            returned = player.returns.get(f"s-{n}", call)
            out.paths.append(
                {
                    "item": float(n),
                    "total": round((heard - t0) * 1000, 2),
                    "wake": round((woke - t0) * 1000, 2),
                    "step": round((call - woke) * 1000, 2),
                    "to_ipc": round((sent - call) * 1000, 2),
                    "mpv": round((heard - sent) * 1000, 2),
                    "reply": round((returned - sent) * 1000, 2),
                }
            )
    return out


def _breakdown(paths: list[dict[str, float]]) -> dict[str, Any]:
    """Percentiles of each stage, and the whole path of the three slowest items."""
    stages = ("wake", "step", "to_ipc", "mpv", "reply")
    worst = sorted(paths, key=lambda p: p["total"], reverse=True)[:3]
    return {
        **{stage: percentiles([p[stage] for p in paths]) for stage in stages},
        "worst": [{k: (int(v) if k == "item" else v) for k, v in p.items()} for p in worst],
    }


@contextmanager
def _load(hogs: int, gil_busy: bool) -> Iterator[None]:
    """Extra load held the same in the runs to compare: ``hogs`` busy processes, and a busy
    Python thread here (pure-Python work in 50 ms bursts, 50 ms apart: JSON, hashing)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
    stop = threading.Event()

    def busy() -> None:
        while not stop.wait(0.05):
            until = time.perf_counter() + 0.05
            while time.perf_counter() < until:
                sum(i * i for i in range(200))

    thread = threading.Thread(target=busy, name="gil-busy", daemon=True)
    if gil_busy:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for proc in procs:
            proc.kill()
            proc.wait()
        if gil_busy:
            thread.join(5)


def measure(
    work: Path,
    items: int,
    spacing: float,
    hogs: int = 0,
    gil_busy: bool = False,
    spawn: bool = True,
    rt_priority: int | None = None,
) -> dict[str, Any]:
    from agent.backends.process_player import MpvPlayer
    from agent.config import AgentSettings

    if rt_priority is None:  # what an agent runs with unless its config says otherwise
        rt_priority = int(AgentSettings.model_fields["rt_priority"].default)
    rt = rt_priority

    alsa = ["--ao=alsa", "--audio-device=alsa/default"]

    def spawn_player() -> MpvPlayer:
        player = MpvPlayer()
        player.device = "default"
        return player

    with AlsaCapture(work / "alsa") as cap, _load(hogs, gil_busy):
        saved = os.environ.get("ALSA_CONFIG_PATH")
        os.environ["ALSA_CONFIG_PATH"] = str(cap.config)  # players inherit it
        try:
            persistent = _run_player(
                cap, work / "persistent", lambda: _TracedMpv(alsa, rt), items, spacing, rt
            )
            spawned = _Run()
            if spawn:
                spawned = _run_player(cap, work / "spawn", spawn_player, items, spacing, rt)
        finally:
            if saved is None:
                os.environ.pop("ALSA_CONFIG_PATH", None)
            else:
                os.environ["ALSA_CONFIG_PATH"] = saved
        reader_rt = cap.reader_rt
    result = percentiles(persistent.latencies)
    return {
        "player": "mpv (persistent, JSON IPC, preloaded paused)",
        "items": items,
        "heard": len(persistent.latencies),
        "not_heard": persistent.unheard,
        "starts": persistent.stats,
        "start_latency_ms": result,
        "play_called_ms": percentiles(persistent.called),
        "play_to_sound_ms": percentiles(persistent.after_call),
        "breakdown_ms": _breakdown(persistent.paths),
        "baseline_spawn_ms": {
            **percentiles(spawned.latencies),
            "heard": len(spawned.latencies),
            "not_heard": spawned.unheard,
        },
        "load": {
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "hogs": hogs,
            "gil_busy": gil_busy,
            "reader_rt": reader_rt,
        },
        "rt_priority": rt,
        "method": "first non-silent frame reaching an ALSA file-plugin FIFO minus the scheduled"
        " start (wall clock); a real card adds its constant output delay. play_called_ms: when"
        " the playout clock called play() (the scheduler's share); play_to_sound_ms: from that"
        " call to the first sound (the player's share); breakdown_ms: the stages of the path"
        " (see the module's docstring)",
        "target_p99_ms": TARGET_P99_MS,
        "ok": persistent.unheard == 0 and result["p99"] < TARGET_P99_MS,
    }


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="loa-bench-sound-") as tmp:
        out = measure(
            Path(tmp),
            args.items,
            args.spacing,
            args.hogs,
            args.gil_busy,
            not args.no_spawn,
            args.rt_priority,
        )
    emit(out, args.json)
    return 0
