"""The playout clock driving the real players (aplay, mpv --ao=alsa) through ALSA into a
file-backed PCM (loadsim/bench/_alsa_capture.py): the captured PCM is the item's audio.

The schedule runs on a FakeClock stepped by hand (no sleeping on the schedule); only the
players run in real time, and the capture is read once they are done writing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.backends.amplifier import NoopAmplifier
from agent.backends.mpv_ipc import PersistentMpvPlayer
from agent.backends.player import Player
from agent.backends.process_player import AplayPlayer
from agent.backends.volume import NoopVolume, PlayerVolume, Volume
from agent.played_log import PlayedLog
from agent.playout import PRELOAD_S, Playout, Source
from loadsim.bench._alsa_capture import (
    RATE,
    AlsaCapture,
    loud_frames,
    rms,
    samples,
    write_square_wav,
)
from protocol.clock import FakeClock
from protocol.models import (
    Command,
    CommandAction,
    EventKind,
    ItemKind,
    MediaRef,
    Playlist,
    PlaylistItem,
)

pytestmark = pytest.mark.skipif(
    shutil.which("aplay") is None or shutil.which("mpv") is None,
    reason="needs alsa-utils and mpv (deploy/dev/bootstrap.sh installs them)",
)

T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
DURATION_S = 0.5
AMPLITUDE = 8000
MPV_ALSA = ["--ao=alsa", "--audio-device=alsa/default"]


@pytest.fixture
def capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AlsaCapture]:
    with AlsaCapture(tmp_path / "alsa") as cap:
        monkeypatch.setenv("ALSA_CONFIG_PATH", str(cap.config))  # players inherit it
        yield cap


@pytest.fixture
def tone(tmp_path: Path) -> Path:
    path = tmp_path / "tone.wav"
    write_square_wav(path, DURATION_S, AMPLITUDE)
    return path


def item(n: int, start: datetime, duration_s: float = DURATION_S) -> PlaylistItem:
    media = MediaRef(sha256=f"{n:064x}", ext="wav", size=1, duration_s=duration_s)
    return PlaylistItem(
        id=f"a-{n}", kind=ItemKind.AUDIO, start=start, duration_s=duration_s, media=media
    )


class Rig:
    def __init__(self, tmp_path: Path, player: Player, tone: Path, volume: Volume | None = None):
        self.clock = FakeClock(T0 - timedelta(seconds=10))
        self.events: list[tuple[EventKind, str | None, str | None, str]] = []
        self.player = player
        self.playout = Playout(
            self.clock,
            player,
            NoopAmplifier(),
            volume or NoopVolume(),
            PlayedLog(tmp_path / "played.sqlite"),
            lambda k, i, c, d: self.events.append((k, i, c, d)),
            lambda _item: Source(str(tone)),
        )

    def schedule(self, *items: PlaylistItem) -> None:
        self.playout.set_playlist(
            Playlist(
                node_id="n1",
                version=1,
                generated_at=T0 - timedelta(minutes=1),
                window_start=T0 - timedelta(minutes=1),
                window_end=T0 + timedelta(hours=1),
                items=list(items),
            )
        )

    def at(self, when: datetime) -> None:
        self.clock.advance((when - self.clock.now()).total_seconds())
        self.playout.step()


def play_one(rig: Rig, cap: AlsaCapture, start: datetime) -> list[int]:
    """Step where the real loop wakes (preload, start, end), letting the player write."""
    preload = start - timedelta(seconds=PRELOAD_S / 2)
    if rig.clock.now() < preload:
        rig.at(preload)
    mark = cap.mark()
    rig.at(start)
    assert cap.wait_sound(mark), "the player produced no sound"
    cap.wait_quiet()
    rig.at(start + timedelta(seconds=DURATION_S))
    return list(samples(cap.since(mark)))


def assert_is_the_item(pcm: list[int], level: float = AMPLITUDE) -> None:
    import array

    frames = loud_frames(array.array("h", pcm))
    assert abs(frames - DURATION_S * RATE) <= RATE * 0.01, frames  # the item's duration
    assert abs(rms(array.array("h", pcm)) - level) <= level * 0.02  # and its level


def test_aplay_plays_the_scheduled_item_through_alsa(
    tmp_path: Path, capture: AlsaCapture, tone: Path
) -> None:
    player = AplayPlayer()
    player.device = "default"
    rig = Rig(tmp_path, player, tone)
    rig.schedule(item(1, T0))
    rig.at(T0 - timedelta(seconds=1))
    assert capture.since(0) == []  # nothing before the start
    assert_is_the_item(play_one(rig, capture, T0))
    assert [k for k, *_ in rig.events] == [EventKind.STARTED, EventKind.FINISHED]


def test_persistent_mpv_preloads_then_plays_through_alsa(
    tmp_path: Path, capture: AlsaCapture, tone: Path
) -> None:
    player = PersistentMpvPlayer(MPV_ALSA)
    try:
        rig = Rig(tmp_path, player, tone)
        rig.schedule(item(1, T0), item(2, T0 + timedelta(seconds=10)))
        rig.at(T0 - timedelta(seconds=PRELOAD_S + 1))
        assert player.stats == {"preloaded": 0, "loaded": 0, "spawned": 0}
        rig.at(T0 - timedelta(seconds=PRELOAD_S / 2))  # within the preload window: loaded
        capture.wait_quiet()
        assert rms(samples(capture.since(0))) == 0  # loaded paused: not a sound yet
        assert_is_the_item(play_one(rig, capture, T0))
        assert_is_the_item(play_one(rig, capture, T0 + timedelta(seconds=10)))
        assert player.stats == {"preloaded": 2, "loaded": 0, "spawned": 0}
    finally:
        player.close()


def test_a_volume_command_changes_the_captured_level(
    tmp_path: Path, capture: AlsaCapture, tone: Path
) -> None:
    """No ALSA mixer control can exist without a sound card (see _alsa_capture), so the
    volume command goes to the persistent mpv's gain: what the agent does with no
    ``alsa_control`` set. mpv's volume is cubic: 50 % is 1/8 of the amplitude."""
    player = PersistentMpvPlayer(MPV_ALSA)
    try:
        rig = Rig(tmp_path, player, tone, PlayerVolume(player.set_volume))
        rig.schedule(item(1, T0), item(2, T0 + timedelta(seconds=10)))
        rig.at(T0 - timedelta(seconds=1))
        assert_is_the_item(play_one(rig, capture, T0))
        rig.playout.submit(
            Command(
                id="vol-1",
                node_id="n1",
                action=CommandAction.VOLUME,
                volume=50,
                issued_at=rig.clock.now(),
                expires_at=rig.clock.now() + timedelta(minutes=5),
            )
        )
        rig.at(T0 + timedelta(seconds=5))
        assert_is_the_item(play_one(rig, capture, T0 + timedelta(seconds=10)), AMPLITUDE / 8)
    finally:
        player.close()


def test_mpv_that_died_is_replaced_by_a_spawned_player(
    tmp_path: Path, capture: AlsaCapture, tone: Path
) -> None:
    player = PersistentMpvPlayer(MPV_ALSA)
    try:
        rig = Rig(tmp_path, player, tone)
        rig.schedule(item(1, T0), item(2, T0 + timedelta(seconds=10)))
        rig.at(T0 - timedelta(seconds=PRELOAD_S / 2))  # preloaded
        assert player._proc is not None
        os.kill(player._proc.proc.pid, 9)
        player._proc.proc.wait()
        assert_is_the_item(play_one(rig, capture, T0))  # still heard, from a fresh mpv
        assert player.stats["spawned"] == 1
        # restarted in the background: preloads the next item again
        assert_is_the_item(play_one(rig, capture, T0 + timedelta(seconds=10)))
        assert player.stats["preloaded"] == 1
    finally:
        player.close()


def test_end_of_file_and_undecodable_files_are_reported_by_poll(
    tmp_path: Path, capture: AlsaCapture, tone: Path
) -> None:
    """mpv's end-file events reach the playout through ``poll``: 0 at the end of the file,
    1 for bytes mpv cannot decode (the clock then reports the item failed)."""
    import time

    from agent.backends.player import PlayRequest

    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF" + bytes(range(256)) * 8)
    player = PersistentMpvPlayer(MPV_ALSA)
    try:
        good = player.play(PlayRequest("g", "audio", str(tone), 0.0, 5.0))
        deadline = time.monotonic() + 10
        while good.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert good.poll() == 0
        bad = player.play(PlayRequest("b", "audio", str(junk), 0.0, 5.0))
        while bad.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert bad.poll() == 1
        assert good.poll() == 0  # the next file's events are not taken for the old one
    finally:
        player.close()
