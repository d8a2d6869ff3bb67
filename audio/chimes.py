"""Intro and outro chimes, synthesised by ffmpeg's ``sine`` source: no binary asset to
license or ship, and the same ffmpeg always yields the same bytes (so they cache well).

Intro is a falling two-note "ding-dong" (E5 then C5), the outro the same notes rising.
"""

from __future__ import annotations

from typing import Literal

from audio.ffmpeg import ffmpeg
from audio.pcm import WORK_RATE, Pcm

ChimeKind = Literal["intro", "outro"]
CHIME_VERSION = "2tone-v1"
"""Part of every render's cache key: change it when the chime sound changes."""

_E5, _C5 = 659.25, 523.25
_NOTES: dict[str, tuple[float, float]] = {"intro": (_E5, _C5), "outro": (_C5, _E5)}


def _note(freq: float, label: str, seconds: float, rate: int) -> str:
    return (
        f"sine=frequency={freq}:duration={seconds}:sample_rate={rate},"
        f"afade=t=in:d=0.01,afade=t=out:st=0.06:d={seconds - 0.06:.2f}:curve=exp,"
        f"volume=3.0[{label}]"
    )


def chime(kind: ChimeKind, rate: int = WORK_RATE) -> Pcm:
    """The chime as mono PCM at ``rate`` (about 1.4 s)."""
    first, second = _NOTES[kind]
    graph = (
        f"{_note(first, 'a', 0.65, rate)};{_note(second, 'b', 0.75, rate)};"
        "[a][b]concat=n=2:v=0:a=1[out]"
    )
    out, _ = ffmpeg(
        [
            "-loglevel",
            "error",
            "-filter_complex",
            graph,
            "-map",
            "[out]",
            "-ac",
            "1",
            "-ar",
            str(rate),
            "-f",
            "s16le",
            "-bitexact",
            "pipe:1",
        ]
    )
    return Pcm(out, rate)
