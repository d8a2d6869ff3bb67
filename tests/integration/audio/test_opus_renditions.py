"""The Opus rendition of rendered speech (real espeak-ng + ffmpeg): made once, far smaller,
and as intelligible by a listening-free proxy - the same loudness (EBU R128) and the same
share of energy in the telephone speech band (300-3400 Hz) as the MP3 it came from."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audio.ffmpeg import ffmpeg, input_args
from audio.mastering import measure_loudness
from audio.media_store import MediaStore
from audio.pipeline import SpeechRenderer
from audio.renditions import OpusRenditions
from controller.services.renditions import with_alternatives
from protocol.models import ItemKind, MediaRef, PlaylistItem, Priority
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

TEXT = (
    "Kính thưa bà con nhân dân! Điện lực khu vực thông báo tạm ngừng cung cấp điện để bảo "
    "dưỡng đường dây trung thế, từ 7 giờ đến 17 giờ ngày 20 tháng 12."
)


def rms_db(path: Path, band: bool) -> float:
    """RMS level (dBFS) of the whole signal, or of its 300-3400 Hz band only."""
    chain = "highpass=f=300:poles=2,highpass=f=300:poles=2,lowpass=f=3400:poles=2," if band else ""
    _, err = ffmpeg(
        ["-loglevel", "info", *input_args(path), "-af", f"{chain}astats=measure_perchannel=none"
         ":measure_overall=RMS_level", "-f", "null", "-"]
    )  # fmt: skip
    found = re.findall(r"RMS level dB:\s+(-?[\d.]+)", err)
    assert found, err[-500:]
    return float(found[-1])


def speech_band_share_db(path: Path) -> float:
    """How far below the whole signal the speech band sits (0 dB = all energy in band)."""
    return rms_db(path, band=True) - rms_db(path, band=False)


def test_opus_rendition_is_smaller_and_keeps_loudness_and_speech_band(
    store: MediaStore, renderer: SpeechRenderer
) -> None:
    mp3 = renderer.render_text(TEXT)
    renditions = OpusRenditions(store)
    made = renditions.opus_for(mp3.sha256, mp3.ext)
    assert made is not None and made.ext == "opus"
    opus_path = store.resolve(f"{made.sha256}.opus")
    mp3_path = store.resolve(mp3.filename)
    assert opus_path is not None and mp3_path is not None
    assert opus_path.read_bytes()[:4] == b"OggS"
    assert made.size < 0.6 * mp3.size  # 16 kbit/s Opus against 56 kbit/s MP3
    assert (
        abs(
            measure_loudness(opus_path).integrated_lufs - measure_loudness(mp3_path).integrated_lufs
        )
        < 1
    )
    assert abs(speech_band_share_db(opus_path) - speech_band_share_db(mp3_path)) < 1
    # made once: the index answers the next time, the file is not re-encoded
    before = opus_path.stat().st_mtime_ns
    assert OpusRenditions(store).opus_for(mp3.sha256, mp3.ext) == made
    assert opus_path.stat().st_mtime_ns == before


def test_no_rendition_of_what_is_not_a_stored_mp3(store: MediaStore) -> None:
    renditions = OpusRenditions(store)
    assert renditions.opus_for("a" * 64, "mp3") is None  # not in the store
    assert renditions.opus_for("a" * 64, "opus") is None  # already small


def test_an_item_that_must_not_wait_goes_without_a_missing_rendition_and_gets_it_later(
    store: MediaStore, renderer: SpeechRenderer
) -> None:
    mp3 = renderer.render_text("Thông báo khẩn cấp.")
    item = PlaylistItem(
        id="emg-1",
        kind=ItemKind.AUDIO,
        start=datetime(2026, 12, 1, tzinfo=UTC),
        priority=Priority.EMERGENCY,
        duration_s=1.0,
        media=MediaRef(sha256=mp3.sha256, ext=mp3.ext, size=mp3.size, duration_s=1.0),
    )
    renditions = OpusRenditions(store)
    assert renditions.known(mp3.sha256, mp3.ext) is None
    sent = with_alternatives(item, renditions, wait=False)
    assert sent.media is not None and not sent.media.alternatives  # no encode on the way out
    wait_until(lambda: renditions.known(mp3.sha256, mp3.ext) is not None, 60)
    made = renditions.known(mp3.sha256, mp3.ext)
    again = with_alternatives(item, renditions, wait=False)  # the next emergency lists it
    assert again.media is not None and made is not None
    assert [a.sha256 for a in again.media.alternatives] == [made.sha256]
