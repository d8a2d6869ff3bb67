"""Several recordings played back to back as one file: a bulletin in Vietnamese then Tày.

The agent stays simple (one item, one file); the controller joins the language variants
here, in the order a zone asks for, with a short pause between them. Each part is already
levelled (it went through the pipeline or the upload checks), so the join only decodes,
concatenates and re-encodes: no second loudness pass that could change one language's level.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audio.errors import AudioToolError
from audio.ffmpeg import ffmpeg, probe_duration
from audio.formats import OutputFormat
from audio.mastering import decode
from audio.media import RenderedMedia
from audio.media_store import MediaStore
from audio.pcm import WORK_RATE, Pcm, pcm_input_args, silence

GAP_S = 0.8
"""Pause between two languages: long enough to hear that a new language begins."""


@dataclass(frozen=True)
class Segment:
    """Where one part lies in the joined file (seconds from its start)."""

    label: str
    offset_s: float
    duration_s: float


def join(
    store: MediaStore,
    parts: list[tuple[str, Path]],
    fmt: OutputFormat,
    kbps: int | None = None,
    gap_s: float = GAP_S,
) -> tuple[RenderedMedia, list[Segment]]:
    """Decode ``parts`` (label, file), join them with ``gap_s`` of silence, encode, store."""
    if not parts:
        raise ValueError("nothing to join")
    joined = Pcm(b"", WORK_RATE)
    segments: list[Segment] = []
    for index, (label, path) in enumerate(parts):
        if index:
            joined += silence(gap_s)
        pcm = decode(path)
        segments.append(Segment(label, round(joined.duration_s, 3), round(pcm.duration_s, 3)))
        joined += pcm
    out, _ = ffmpeg(
        [
            "-loglevel",
            "error",
            *pcm_input_args(joined.rate),
            *fmt.encoder_args(kbps),
            "-f",
            fmt.container,
            "pipe:1",
        ],
        joined.data,
    )
    if not out:
        raise AudioToolError("ffmpeg produced no audio")
    stored = store.put_bytes(out, fmt.ext)
    media = RenderedMedia(
        sha256=stored.sha256,
        ext=stored.ext,
        size=stored.size,
        duration_s=round(probe_duration(stored.path), 3),
        engine="join",
        mime=fmt.mime,
    )
    return media, segments
