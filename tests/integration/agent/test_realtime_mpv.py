"""The persistent mpv runs at the agent's real-time priority: every thread it has when it
starts, and the ones it starts later for a file (demuxer, decoder, audio output), so the
unpause turns into sound at once on a busy Pi. Where the machine does not grant it, mpv
plays at ordinary priority."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from agent.backends.mpv_ipc import PersistentMpvPlayer
from agent.backends.player import PlayRequest
from agent.realtime import promote_current_thread
from loadsim.bench._alsa_capture import write_square_wav

pytestmark = pytest.mark.skipif(shutil.which("mpv") is None, reason="needs mpv")


def granted() -> bool:
    box: list[bool] = []
    probe = threading.Thread(target=lambda: box.append(promote_current_thread(1)))
    probe.start()
    probe.join()
    return box[0]


def priorities(pid: int) -> dict[int, int]:
    """Each live thread's priority (a thread that ends while being read is left out)."""
    out = {}
    for entry in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[int(entry.name)] = os.sched_getparam(int(entry.name)).sched_priority
        except ProcessLookupError:
            continue
    return out


def test_every_mpv_thread_runs_at_the_rt_priority(tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    write_square_wav(tone, 0.3)
    player = PersistentMpvPlayer(["--ao=null"], tmp_path, rt_priority=3)
    want = 3 if granted() else 0
    try:
        player.start()
        proc = player._proc
        assert proc is not None
        pid = proc.proc.pid
        assert set(priorities(pid).values()) == {want}
        before = set(priorities(pid))
        player.prepare(PlayRequest("a", "audio", str(tone), 0.0, 0.3, 100))
        after = priorities(pid)
        assert set(after) - before, "mpv started no thread for the file"
        assert set(after.values()) == {want}  # the new ones inherited it
    finally:
        player.close()


def test_rt_priority_zero_leaves_mpv_at_ordinary_priority(tmp_path: Path) -> None:
    player = PersistentMpvPlayer(["--ao=null"], tmp_path)
    try:
        player.start()
        assert player._proc is not None
        assert set(priorities(player._proc.proc.pid).values()) == {0}
    finally:
        player.close()
