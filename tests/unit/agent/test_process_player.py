"""Process players: argv per program, a child that is stopped on demand or reports its exit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent.backends.player import PlayRequest, TapPlayer, UnverifiedSource
from agent.backends.process_player import (
    AplayPlayer,
    BackendUnavailable,
    FfplayPlayer,
    MpvPlayer,
    ProcessPlayer,
)

REQ = PlayRequest("i", "audio", "/cache/x.mp3", offset_s=12.5, duration_s=30, volume=80)


def _cached(tmp_path: Path) -> str:
    path = tmp_path / "x.mp3"
    path.write_bytes(b"verified")
    return str(path)


class SleepPlayer(ProcessPlayer):
    """A stand-in program with real process behaviour."""

    program = "sleep"

    def argv(self, request: PlayRequest) -> list[str]:
        return [self.binary, str(request.duration_s)]


def test_stop_terminates_a_running_child(tmp_path: Path) -> None:
    playback = SleepPlayer().play(PlayRequest("i", "audio", _cached(tmp_path), 0, 30))
    assert playback.poll() is None
    playback.stop()
    assert playback.poll() is not None
    playback.stop()  # idempotent


def test_a_child_that_exits_reports_its_status(tmp_path: Path) -> None:
    playback = SleepPlayer().play(PlayRequest("i", "audio", _cached(tmp_path), 0, 0.01))
    deadline = time.monotonic() + 5
    while playback.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert playback.poll() == 0


def test_missing_program_is_a_clear_error() -> None:
    class Nope(ProcessPlayer):
        program = "no-such-player-xyz"

    with pytest.raises(BackendUnavailable, match="not installed"):
        Nope()


def test_argv_carries_offset_length_and_volume() -> None:
    mpv = MpvPlayer.__new__(MpvPlayer)
    mpv.binary = "mpv"
    assert mpv.argv(REQ) == [
        "mpv", "--no-video", "--really-quiet", "--no-terminal",
        "--start=12.500", "--length=30.000", "--volume=80", "--", "/cache/x.mp3",
    ]  # fmt: skip
    ffplay = FfplayPlayer.__new__(FfplayPlayer)
    ffplay.binary = "ffplay"
    assert ffplay.argv(REQ)[-6:] == ["-t", "30.000", "-volume", "80", "-i", "/cache/x.mp3"]
    assert "-ss" in ffplay.argv(REQ)
    aplay = AplayPlayer.__new__(AplayPlayer)
    aplay.binary = "aplay"
    assert aplay.argv(REQ) == ["aplay", "-q", "/cache/x.mp3"]


@pytest.mark.parametrize("source", ["http://ctl:8080/media/x.mp3", "/no/such/file.mp3"])
@pytest.mark.parametrize("kind", ["audio", "tts"])
def test_media_items_play_only_local_files(tmp_path: Path, source: str, kind: str) -> None:
    """An announcement or media item is never played from a URL (issue 14, hole 5): the
    player refuses before any process starts; only ``stream`` items may take a URL."""
    tap = tmp_path / "tap.jsonl"
    for player in (SleepPlayer(), TapPlayer(tap)):
        with pytest.raises(UnverifiedSource, match="not a local file"):
            player.play(PlayRequest("i", kind, source, 0, 0.01))
    assert not tap.exists()
    stream = SleepPlayer().play(PlayRequest("s", "stream", "http://icecast:8000/live", 0, 0.01))
    stream.stop()
