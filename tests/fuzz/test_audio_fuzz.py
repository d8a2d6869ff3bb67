"""Announcement text and uploaded audio: success, or a clear typed rejection — never a crash.

Real espeak-ng and ffmpeg. Text: empty, whitespace, 100k characters, emoji, mixed scripts,
control characters, huge numbers. Uploads: random bytes, truncated real files, a WAV
header that promises gigabytes (a decompression-bomb shape), ten hours of silence.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz.budget import fuzz_settings
from hypothesis import example, given
from hypothesis import strategies as st
from support.audio_files import lying_mp3
from support.disk import PeakSize

from audio.engines.espeak import EspeakEngine
from audio.errors import AudioRejected
from audio.ffmpeg import run_tool
from audio.media_store import MediaStore
from audio.pipeline import MAX_TEXT_CHARS, SpeechRenderer
from audio.uploads import UploadLimits

pytestmark = pytest.mark.integration

SCRIPTS = st.sampled_from(
    [
        "Kính thưa bà con",
        "họp lúc 14h30 ngày 2/9/2025",
        "🙂🚨📢",
        "中文 العربية русский ภาษาไทย",
        "\u200b\u200d\ufeff",
        "\x00\x07\x1b[31m",
        "1.000.000.000.000.000.000.000",
        "0" * 30 + "7",
        "%%%///---",
        "UBND, HĐND, KH-UBND 124/KH-UBND",
    ]
)
texts = st.one_of(
    st.text(max_size=200),
    st.lists(SCRIPTS, min_size=1, max_size=6).map(" ".join),
    st.integers(1, 2000).map(lambda n: "9" * n),
    st.just("9" * 9000),
    st.sampled_from(["", " ", "\n\n\t", "x" * 100_000, "🙂" * 20_000, "a " * 50_000]),
)


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SpeechRenderer]:
    store = MediaStore(tmp_path_factory.mktemp("audio-fuzz") / "media")
    limits = UploadLimits(max_bytes=8 * 1024 * 1024, max_duration_s=600)
    yield SpeechRenderer(store, engines=[EspeakEngine()], upload_limits=limits)


@fuzz_settings(500)
@given(texts)
def test_normalise_accepts_or_rejects_with_a_reason(renderer: SpeechRenderer, text: str) -> None:
    try:
        words = renderer.normalise(text)
    except AudioRejected as exc:
        assert exc.reason
        assert not text.strip() or len(text) > MAX_TEXT_CHARS or "nothing to say" in exc.reason
        return
    assert words.strip() and len(words) < 40 * max(len(text), 1)


@fuzz_settings(60)
@given(texts)
@example("🙂🚨📢")
@example("%%%///---")
@example("\u200b\u200d\ufeff")
def test_render_text_stores_media_or_rejects(renderer: SpeechRenderer, text: str) -> None:
    before = set(renderer.store.root.glob("*.*"))
    try:
        media = renderer.render_text(text[:300])
    except AudioRejected as exc:
        assert exc.reason
        assert set(renderer.store.root.glob("*.*")) == before  # nothing half-written
        return
    assert media.duration_s > 0.1
    assert renderer.store.path_for(media.sha256, media.ext).stat().st_size == media.size


def _tone_wav(seconds: float) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tone.wav"
        run_tool(
            [
                "ffmpeg", "-loglevel", "error", "-f", "lavfi",
                "-i", f"sine=frequency=440:duration={seconds}:sample_rate=16000",
                "-ac", "1", str(out),
            ]
        )  # fmt: skip
        return out.read_bytes()


GOOD_WAV = _tone_wav(2.0)


def wav_header(data_bytes: int, rate: int = 8000) -> bytes:
    """A WAV header whose data chunk claims ``data_bytes`` (mono 16-bit)."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
        + b"fmt " + struct.pack("<I", 16) + fmt
        + b"data" + struct.pack("<I", data_bytes)
    )  # fmt: skip


HOSTILE_UPLOADS = {
    "ten-hours-declared": wav_header(10 * 3600 * 8000 * 2) + b"\x00" * 65536,
    "header-only": wav_header(0),
    "truncated": GOOD_WAV[: len(GOOD_WAV) // 3],
    "zip": b"PK\x03\x04" + b"\x00" * 26 + b"\x00" * 5000,
    "html": b"<html><script>alert(1)</script></html>",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_UPLOADS))
def test_hostile_uploads_are_rejected_with_nothing_stored(
    renderer: SpeechRenderer, name: str
) -> None:
    before = set(renderer.store.root.glob("*.*"))
    with pytest.raises(AudioRejected) as caught:
        renderer.import_upload(HOSTILE_UPLOADS[name], f"{name}.wav")
    assert caught.value.reason.startswith(f"{name}.wav")
    assert set(renderer.store.root.glob("*.*")) == before


def test_a_header_promising_gigabytes_costs_only_what_it_holds(
    renderer: SpeechRenderer,
) -> None:
    """The streaming placeholder size (what espeak-ng writes) over 4 kB of samples: read as
    the quarter second it holds, or refused; never 2 GB decoded or allocated."""
    bomb = wav_header(0x7FFFFFF0) + b"\x00" * 4096
    try:
        media = renderer.import_upload(bomb, "bomb.wav")
    except AudioRejected as exc:
        assert exc.reason.startswith("bomb.wav")
        return
    assert media.duration_s < 0.5


def test_ten_hours_of_real_silence_is_refused_by_length(
    tmp_path: Path,
) -> None:
    """A real 10-hour MP3 (silent frames repeated: cheap to make, 36 MB on disk, under the
    default 100 MB limit) is refused by its duration before it is decoded."""
    ten_s = tmp_path / "ten-seconds.mp3"
    run_tool(
        [
            "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
            "-t", "10", "-c:a", "libmp3lame", "-b:a", "8k", "-write_xing", "0", str(ten_s),
        ]
    )  # fmt: skip
    path = tmp_path / "silence.mp3"
    path.write_bytes(ten_s.read_bytes() * 3600)
    renderer = SpeechRenderer(MediaStore(tmp_path / "media"), engines=[EspeakEngine()])
    with pytest.raises(AudioRejected, match="long; the limit is"):
        renderer.import_upload(path, "silence.mp3")
    assert not list((tmp_path / "media").glob("*.mp3"))


def random_or_damaged(good: bytes, shortest: int, max_random: int) -> st.SearchStrategy[bytes]:
    """Random bytes, ``good`` cut short (at least ``shortest`` bytes), or overwritten in place."""
    return st.one_of(
        st.binary(min_size=1, max_size=max_random),
        st.integers(shortest, len(good) - 1).map(lambda n: good[:n]),
        st.tuples(st.integers(0, len(good) - 1), st.binary(min_size=1, max_size=64)).map(
            lambda t: good[: t[0]] + t[1] + good[t[0] + len(t[1]) :]
        ),
    )


@fuzz_settings(80)
@given(random_or_damaged(GOOD_WAV, 44, 4096))
def test_random_and_damaged_uploads(renderer: SpeechRenderer, data: bytes) -> None:
    before = set(renderer.store.root.glob("*.*"))
    try:
        media = renderer.import_upload(data, "upload.wav")
    except AudioRejected as exc:
        assert exc.reason.startswith("upload.wav")
        assert set(renderer.store.root.glob("*.*")) == before
        return
    assert 0.1 <= media.duration_s <= 600


BOUNDED = UploadLimits(max_bytes=4 * 1024 * 1024, max_duration_s=20)
with tempfile.TemporaryDirectory(prefix="loa-fuzz-mp3-") as _work:
    LYING_MP3 = lying_mp3(Path(_work), minutes=3)
PLAYLIST_HEADS = [b"#EXTM3U\n", b"ffconcat version 1.0\nfile ", b"[playlist]\nFile1=", b"<?xml"]


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> SpeechRenderer:
    store = MediaStore(tmp_path_factory.mktemp("audio-fuzz-bounded") / "media")
    return SpeechRenderer(store, engines=[EspeakEngine()], upload_limits=BOUNDED)


@fuzz_settings(60)
@given(
    st.one_of(
        random_or_damaged(LYING_MP3, 1, 8192),
        st.tuples(st.sampled_from(PLAYLIST_HEADS), st.binary(max_size=512)).map(
            lambda t: t[0] + t[1]
        ),
    )
)
@example(LYING_MP3)
def test_hostile_uploads_stay_within_the_decode_bound(
    bounded: SpeechRenderer, tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    """Random, truncated and damaged uploads (a lying-header MP3, playlists): accepted within
    the limit or refused with a reason; never a crash, and the temp dir never holds more than
    the upload plus the decode cap (issue 14, hole 4)."""
    root = tmp_path_factory.mktemp("upload-tmp")
    _, cap_bytes = bounded.uploads.decode_cap()
    before = set(bounded.store.root.glob("*.*"))
    saved, tempfile.tempdir = tempfile.tempdir, str(root)
    try:
        with PeakSize(root) as temp:
            try:
                media = bounded.import_upload(data, "upload.mp3")
            except AudioRejected as exc:
                assert exc.reason.startswith("upload.mp3: ")
                assert set(bounded.store.root.glob("*.*")) == before
                media = None
    finally:
        tempfile.tempdir = saved
    assert temp.peak <= len(data) + cap_bytes
    assert list(root.iterdir()) == []
    if media is not None:
        assert 0.1 <= media.duration_s <= BOUNDED.max_duration_s
