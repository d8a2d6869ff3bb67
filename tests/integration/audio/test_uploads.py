"""Uploaded audio: accepted and normalised, or rejected with a reason and nothing stored."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from audio.errors import AudioRejected
from audio.ffmpeg import run_tool
from audio.mastering import measure_loudness
from audio.media_store import MediaStore
from audio.pipeline import SpeechRenderer
from audio.uploads import UploadLimits

from .conftest import CountingEspeak, store_files

pytestmark = pytest.mark.integration


def _encode(fmt: str, seconds: float = 4.0) -> bytes:
    """A pulsing tone in the given container, written to a file as real encoders do (so
    MP3 gets its Info header with the true length, and WAV its real data size)."""
    codec = {
        "mp3": ["-b:a", "64k"],
        "wav": [],
        "ogg": ["-c:a", "libopus"],
        "webm": ["-c:a", "libopus"],  # a browser's MediaRecorder
        "m4a": ["-c:a", "aac"],  # a phone's recorder
    }[fmt]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"signal.{fmt}"
        run_tool(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=440:duration={seconds}:sample_rate=44100",
                "-af",
                "volume=-12dB,apulsator=hz=2",
                "-ac",
                "2",
                *codec,
                str(out),
            ]
        )
        return out.read_bytes()


@pytest.fixture
def renderer(store: MediaStore) -> SpeechRenderer:
    limits = UploadLimits(max_bytes=2 * 1024 * 1024, max_duration_s=30)
    return SpeechRenderer(store, engines=[CountingEspeak()], upload_limits=limits)


@pytest.mark.parametrize("fmt", ["mp3", "wav", "ogg", "webm", "m4a"])
def test_valid_upload_is_normalised_to_mono_mp3(
    renderer: SpeechRenderer, store: MediaStore, fmt: str
) -> None:
    media = renderer.import_upload(_encode(fmt), f"ghi-am.{fmt}")
    path = store.path_for(media.sha256, media.ext)
    assert (media.engine, media.ext) == ("upload", "mp3")
    assert media.duration_s == pytest.approx(4.0, abs=0.1)
    assert abs(measure_loudness(path).integrated_lufs + 16) <= 1.0


def test_upload_from_a_path(renderer: SpeechRenderer, tmp_path: Path) -> None:
    source = tmp_path / "ban-tin.wav"
    source.write_bytes(_encode("wav"))
    assert renderer.import_upload(source, source.name).duration_s == pytest.approx(4, abs=0.1)


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: b"", "empty"),
        (lambda: "Thông báo họp thôn".encode() * 50, "not an audio file"),
        (
            lambda: run_tool(
                [
                    "ffmpeg",
                    "-loglevel",
                    "error",
                    "-f",
                    "lavfi",
                    "-i",
                    "color=c=red:s=16x16:d=1",
                    "-frames:v",
                    "1",
                    "-f",
                    "image2",
                    "-c:v",
                    "png",
                    "pipe:1",
                ]
            ),
            "not an audio file",
        ),
        (
            lambda: run_tool(
                [
                    "ffmpeg",
                    "-loglevel",
                    "error",
                    "-f",
                    "lavfi",
                    "-i",
                    "color=c=red:s=16x16:d=1",
                    "-c:v",
                    "ffv1",
                    "-f",
                    "matroska",
                    "pipe:1",
                ]
            ),
            "no audio stream",
        ),
        (lambda: _truncated(_encode("mp3", 10)), "truncated"),
        (lambda: _truncated(_encode("wav", 10)), "truncated"),
        (lambda: _encode("mp3", 40), "limit is 0.5 min"),
        (lambda: b"\xff\xfb" + bytes(3 * 1024 * 1024), "limit is 2 MB"),
    ],
    ids=["empty", "text", "image", "video-only", "cut-mp3", "cut-wav", "too-long", "too-big"],
)
def test_bad_upload_is_rejected_and_nothing_is_stored(
    renderer: SpeechRenderer, store: MediaStore, make: object, reason: str
) -> None:
    data = make()  # type: ignore[operator]
    with pytest.raises(AudioRejected, match=reason):
        renderer.import_upload(data, "upload.bin")
    assert store_files(store) == []
