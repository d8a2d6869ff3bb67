"""Operator-uploaded audio (recorded announcements, music): checked, loudness-normalised
and re-encoded like synthesised speech, so every node plays the same kind of file.

Everything is checked before anything is stored; work happens in a private temporary
folder that is always removed, so a rejected upload leaves no trace in the store.

Nothing in an upload is trusted, its header included: ffprobe and ffmpeg open it as a local
file in one of ``UPLOAD_DEMUXERS`` only (so a playlist posing as audio cannot make them read
another file or a URL), and decoding stops at the longest allowed recording plus a margin,
in time (``-t``) and in bytes (``-fs``), so a file whose header claims one second but which
holds hours of audio costs at most what a legitimate maximum-length recording costs.
"""

from __future__ import annotations

import struct
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

from audio.errors import AudioRejected, AudioToolError
from audio.ffmpeg import UPLOAD_DEMUXERS, ffmpeg, ffprobe_json, input_args
from audio.formats import MP3, OutputFormat
from audio.mastering import LoudnessTarget, master
from audio.media import RenderedMedia
from audio.media_store import MediaStore
from audio.pcm import WORK_RATE

_MB = 1024 * 1024

DECODE_MARGIN_S = 1.0
"""Decoding stops this far past the duration limit: enough to know the limit was exceeded."""
_WAV_HEADER_SLACK = 4096
_TOOL_TIMEOUT_S = 120.0
"""No upload check may hold a worker longer (decoding an hour of MP3 takes a few seconds)."""


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 100 * _MB
    max_duration_s: float = 3600.0


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


class UploadImporter:
    def __init__(
        self,
        store: MediaStore,
        fmt: OutputFormat = MP3,
        kbps: int | None = None,
        target: LoudnessTarget | None = None,
        limits: UploadLimits | None = None,
    ) -> None:
        self.store = store
        self.fmt = fmt
        self.kbps = kbps
        self.target = target or LoudnessTarget()
        self.limits = limits or UploadLimits()

    def import_upload(self, data: bytes | Path, filename: str) -> RenderedMedia:
        """Check, normalise and store an upload; raises ``AudioRejected`` with the reason."""
        size = data.stat().st_size if isinstance(data, Path) else len(data)
        if size == 0:
            raise AudioRejected(f"{filename}: the file is empty", "empty", name=filename)
        if size > self.limits.max_bytes:
            raise AudioRejected(
                f"{filename}: the file is {size / _MB:.1f} MB; "
                f"the limit is {self.limits.max_bytes / _MB:.0f} MB",
                "too_big",
                name=filename,
                limit_mb=f"{self.limits.max_bytes / _MB:.0f}",
            )
        with tempfile.TemporaryDirectory(prefix="loa-upload-") as tmp:
            work = Path(tmp)
            source = data if isinstance(data, Path) else work / "upload"
            if isinstance(data, bytes):
                source.write_bytes(data)
            declared, container = self._probe(source, filename)
            decoded = work / "decoded.wav"
            duration = self._decode(source, decoded, filename, declared, container)
            encoded = master(decoded, self.fmt, self.kbps, self.target)
        stored = self.store.put_bytes(encoded, self.fmt.ext)
        return RenderedMedia(
            stored.sha256, stored.ext, stored.size, round(duration, 3), "upload", mime=self.fmt.mime
        )

    def decode_cap(self) -> tuple[float, int]:
        """(seconds, bytes) past which decoding stops: the limit plus a margin, as WAV."""
        seconds = self.limits.max_duration_s + DECODE_MARGIN_S
        return seconds, int(seconds * WORK_RATE) * 2 + _WAV_HEADER_SLACK

    def _probe(self, source: Path, filename: str) -> tuple[float | None, str]:
        """Declared duration (None if the container does not say) and the demuxer to
        decode with; rejects non-audio and containers outside ``UPLOAD_DEMUXERS``."""
        try:
            info = ffprobe_json(source, timeout=_TOOL_TIMEOUT_S)
        except AudioToolError:
            raise AudioRejected(
                f"{filename}: not an audio file ffmpeg can read "
                "(accepted: MP3, WAV, M4A, OGG, WebM, AMR, AAC, FLAC)",
                "not_audio",
                name=filename,
            ) from None
        container = str(info.get("format", {}).get("format_name", "")).split(",")[0]
        if container not in UPLOAD_DEMUXERS:  # the whitelist already refused it; belt and braces
            raise AudioRejected(
                f"{filename}: {container or 'unknown'} files are not accepted",
                "not_audio",
                name=filename,
            )
        streams = info.get("streams", [])
        if not any(s.get("codec_type") == "audio" for s in streams):
            raise AudioRejected(
                f"{filename}: the file has no audio stream", "no_audio", name=filename
            )
        try:
            declared: float | None = float(info["format"]["duration"])
        except (KeyError, TypeError, ValueError):
            declared = None
        if declared is not None and declared > self.limits.max_duration_s:
            raise AudioRejected(
                f"{filename}: the audio is {_minutes(declared)} long; "
                f"the limit is {_minutes(self.limits.max_duration_s)}",
                "too_long",
                name=filename,
                limit_min=f"{self.limits.max_duration_s / 60:.0f}",
            )
        if container == "wav":
            _check_wav_length(source, filename)
        return declared, container

    def _decode(
        self, source: Path, target: Path, filename: str, declared: float | None, container: str
    ) -> float:
        cap_s, cap_bytes = self.decode_cap()
        try:
            _, errors = ffmpeg(
                [
                    "-loglevel",
                    "error",
                    *input_args(source, UPLOAD_DEMUXERS, forced=container),
                    "-vn",
                    "-ac",
                    "1",
                    "-ar",
                    str(WORK_RATE),
                    "-c:a",
                    "pcm_s16le",
                    "-t",
                    f"{cap_s:.3f}",
                    "-fs",
                    str(cap_bytes),
                    "-y",
                    f"file:{target}",
                ],
                timeout=_TOOL_TIMEOUT_S,
            )
        except AudioToolError as exc:
            raise AudioRejected(
                f"{filename}: the audio could not be decoded ({exc})", "damaged", name=filename
            ) from None
        if errors.strip():
            first = errors.strip().splitlines()[-1]
            raise AudioRejected(
                f"{filename}: the audio is truncated or damaged ({first})", "damaged", name=filename
            )
        with wave.open(str(target), "rb") as wav:
            duration = wav.getnframes() / wav.getframerate()
        if duration > self.limits.max_duration_s:
            # decoding stopped at the cap: the header may claim a second, the file holds more
            raise AudioRejected(
                f"{filename}: the recording is longer than the limit of "
                f"{_minutes(self.limits.max_duration_s)}",
                "too_long",
                name=filename,
                limit_min=f"{self.limits.max_duration_s / 60:.0f}",
            )
        if duration < 0.1:
            raise AudioRejected(
                f"{filename}: the file holds no audible audio", "silent", name=filename
            )
        if declared is not None and duration < declared - max(0.5, 0.02 * declared):
            raise AudioRejected(
                f"{filename}: the audio is truncated ({duration:.1f} s of {declared:.1f} s)",
                "damaged",
                name=filename,
            )
        return duration


_STREAMING_SIZE = 0x7F000000
"""Writers that stream (espeak-ng, ffmpeg to a pipe) put a huge placeholder size here."""


def _check_wav_length(path: Path, filename: str) -> None:
    """A WAV whose ``data`` chunk claims more bytes than the file has was cut off."""
    with path.open("rb") as fh:
        header = fh.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return
        while chunk := fh.read(8):
            if len(chunk) < 8:
                break
            name, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if name == b"data":
                remaining = path.stat().st_size - fh.tell()
                if remaining < length < _STREAMING_SIZE:
                    raise AudioRejected(
                        f"{filename}: the WAV file is truncated ({remaining} of {length} bytes)",
                        "damaged",
                        name=filename,
                    )
                return
            fh.seek(length + (length & 1), 1)
