"""Joining language variants: real ffmpeg, order and segment times checked on the output."""

from __future__ import annotations

import itertools
import math
import struct
from pathlib import Path

import pytest

from audio.concat import GAP_S, join
from audio.formats import MP3
from audio.mastering import decode
from audio.media_store import MediaStore
from audio.pcm import WORK_RATE, Pcm


def _tone(path: Path, hz: int, seconds: float) -> Path:
    n = int(seconds * WORK_RATE)
    data = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / WORK_RATE))) for i in range(n)
    )
    path.write_bytes(Pcm(data).to_wav())
    return path


def _crossings_per_s(pcm: Pcm, start: float, length: float) -> float:
    a = int(start * pcm.rate) * 2
    chunk = pcm.data[a : a + int(length * pcm.rate) * 2]
    samples = struct.unpack(f"<{len(chunk) // 2}h", chunk)
    flips = sum(1 for x, y in itertools.pairwise(samples) if (x < 0) != (y < 0))
    return flips / length


def test_join_keeps_order_and_reports_segments(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    low = _tone(tmp_path / "vi.wav", 300, 1.5)
    high = _tone(tmp_path / "tay.wav", 1200, 1.0)
    media, segments = join(store, [("vi", low), ("tay", high)], MP3)
    assert [s.label for s in segments] == ["vi", "tay"]
    assert segments[0].offset_s == 0.0 and segments[0].duration_s == pytest.approx(1.5, abs=0.01)
    assert segments[1].offset_s == pytest.approx(1.5 + GAP_S, abs=0.01)
    assert media.duration_s == pytest.approx(1.5 + GAP_S + 1.0, abs=0.1)
    out = decode(store.path_for(media.sha256, media.ext))
    # the MP3 encoder delay is a few tens of ms: look inside each part
    assert _crossings_per_s(out, 0.3, 0.8) == pytest.approx(600, rel=0.05)
    assert _crossings_per_s(out, segments[1].offset_s + 0.2, 0.6) == pytest.approx(2400, rel=0.05)
    again, _ = join(store, [("vi", low), ("tay", high)], MP3)
    assert again.sha256 == media.sha256  # deterministic: the same mix is stored once


def test_join_refuses_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        join(MediaStore(tmp_path), [], MP3)
