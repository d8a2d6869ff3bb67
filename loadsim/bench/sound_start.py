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
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.backends.player import Playback, Player, PlayRequest
from loadsim.bench._alsa_capture import AlsaCapture, first_sound_at, write_square_wav
from loadsim.bench._report import add_json_flag, emit
from loadsim.bench._support import percentiles

TARGET_P99_MS = 20.0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "sound-start", help="scheduled instant -> first audio from the real player (ALSA)"
    )
    add_json_flag(parser)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=3.5, help="seconds between starts")
    parser.set_defaults(handler=run)


class _Timed(Player):
    """Wraps the player: notes when the playout clock called ``play`` (wall clock), so the
    scheduler's share of a latency can be told from the player's."""

    def __init__(self, inner: Player) -> None:
        self.inner = inner
        self.calls: dict[str, float] = {}

    def play(self, request: PlayRequest) -> Playback:
        self.calls[request.item_id] = time.time()
        return self.inner.play(request)

    def prepare(self, request: PlayRequest) -> None:
        self.inner.prepare(request)

    def warm_up(self) -> None:
        self.inner.warm_up()

    def close(self) -> None:
        self.inner.close()


def _run_player(
    cap: AlsaCapture, work: Path, make_player: Callable[[], Player], items: int, spacing: float
) -> tuple[list[float], int, dict[str, int], list[float], list[float]]:
    """Play ``items`` through the real playout clock: latencies (ms), items never heard, the
    player's start counts, when ``play()`` was called and from that call to the first sound
    (ms; the player's share: IPC unpause, mpv's audio thread, ALSA)."""
    from agent.backends.amplifier import NoopAmplifier
    from agent.backends.volume import NoopVolume
    from agent.played_log import PlayedLog
    from agent.playout import PRELOAD_S, Playout, Source
    from protocol.clock import SystemClock
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
    played = PlayedLog(work / "played.sqlite")
    playout = Playout(
        SystemClock(),
        player,
        NoopAmplifier(),
        NoopVolume(),
        played,
        lambda *_: None,
        lambda _item: Source(str(wav)),
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
    latencies: list[float] = []
    called = [
        (player.calls[f"s-{n}"] - s.timestamp()) * 1000
        for n, s in enumerate(starts)
        if f"s-{n}" in player.calls
    ]
    after_call: list[float] = []
    unheard = 0
    for n, start in enumerate(starts):
        t0 = start.timestamp()
        window = [c for c in chunks if t0 - 0.5 <= c.at < t0 + duration]
        heard = first_sound_at(window)
        if heard is None:
            unheard += 1
        else:
            latencies.append((heard - t0) * 1000)
            if f"s-{n}" in player.calls:
                after_call.append((heard - player.calls[f"s-{n}"]) * 1000)
    return latencies, unheard, dict(getattr(inner, "stats", {})), called, after_call


def measure(work: Path, items: int, spacing: float) -> dict[str, Any]:
    from agent.backends.mpv_ipc import PersistentMpvPlayer
    from agent.backends.process_player import MpvPlayer

    alsa = ["--ao=alsa", "--audio-device=alsa/default"]

    def spawn_player() -> MpvPlayer:
        player = MpvPlayer()
        player.device = "default"
        return player

    with AlsaCapture(work / "alsa") as cap:
        saved = os.environ.get("ALSA_CONFIG_PATH")
        os.environ["ALSA_CONFIG_PATH"] = str(cap.config)  # players inherit it
        try:
            persistent, unheard, stats, called, after_call = _run_player(
                cap, work / "persistent", lambda: PersistentMpvPlayer(alsa), items, spacing
            )
            spawned, unheard_spawn, *_ = _run_player(
                cap, work / "spawn", spawn_player, items, spacing
            )
        finally:
            if saved is None:
                os.environ.pop("ALSA_CONFIG_PATH", None)
            else:
                os.environ["ALSA_CONFIG_PATH"] = saved
    result = percentiles(persistent)
    return {
        "player": "mpv (persistent, JSON IPC, preloaded paused)",
        "items": items,
        "heard": len(persistent),
        "not_heard": unheard,
        "starts": stats,
        "start_latency_ms": result,
        "play_called_ms": percentiles(called),
        "play_to_sound_ms": percentiles(after_call),
        "baseline_spawn_ms": {
            **percentiles(spawned),
            "heard": len(spawned),
            "not_heard": unheard_spawn,
        },
        "method": "first non-silent frame reaching an ALSA file-plugin FIFO minus the scheduled"
        " start (wall clock); a real card adds its constant output delay. play_called_ms: when"
        " the playout clock called play() (the scheduler's share); play_to_sound_ms: from that"
        " call to the first sound (the player's share)",
        "target_p99_ms": TARGET_P99_MS,
        "ok": unheard == 0 and result["p99"] < TARGET_P99_MS,
    }


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="loa-bench-sound-") as tmp:
        out = measure(Path(tmp), args.items, args.spacing)
    emit(out, args.json)
    return 0
