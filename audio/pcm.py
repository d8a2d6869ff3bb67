"""Mono 16-bit PCM held in memory: the one working format between pipeline stages.

Speech of a commune notice is a minute or two (24 kHz x 2 bytes = 2.9 MB a minute), so
keeping it in memory is cheaper and simpler than temp files; long uploads use files instead.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

WORK_RATE = 24_000
"""Sample rate of every intermediate stage: plenty for speech, native for MP3 and Opus."""


@dataclass(frozen=True)
class Pcm:
    data: bytes
    rate: int = WORK_RATE

    @property
    def duration_s(self) -> float:
        return len(self.data) / 2 / self.rate

    def to_wav(self) -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.rate)
            out.writeframes(self.data)
        return buf.getvalue()

    def __add__(self, other: Pcm) -> Pcm:
        if other.rate != self.rate:
            raise ValueError(f"cannot join {self.rate} Hz and {other.rate} Hz audio")
        return Pcm(self.data + other.data, self.rate)


def silence(seconds: float, rate: int = WORK_RATE) -> Pcm:
    return Pcm(b"\x00\x00" * round(seconds * rate), rate)


def pcm_input_args(rate: int) -> list[str]:
    """ffmpeg input options that describe a raw ``Pcm`` fed on stdin (and allow nothing else)."""
    return [
        "-protocol_whitelist",
        "pipe",
        "-format_whitelist",
        "s16le",
        "-f",
        "s16le",
        "-ar",
        str(rate),
        "-ac",
        "1",
        "-i",
        "pipe:0",
    ]
