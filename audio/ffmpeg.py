"""Thin, typed wrappers around the ffmpeg/ffprobe binaries (Debian packages)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from audio.errors import AudioToolError

__all__ = [
    "PIPELINE_DEMUXERS",
    "UPLOAD_DEMUXERS",
    "AudioToolError",
    "ffmpeg",
    "ffprobe_json",
    "input_args",
    "probe_duration",
    "run_tool",
]

UPLOAD_DEMUXERS: tuple[str, ...] = (
    "mp3",
    "wav",
    "mov",  # m4a, mp4, 3gp: phone recordings (external "drefs" are off by default)
    "ogg",
    "matroska",  # webm: what a browser's MediaRecorder makes
    "amr",
    "amrnb",
    "amrwb",
    "aac",
    "flac",
)
"""The only containers ffmpeg/ffprobe may open for audio we did not make. None of them can
point at another file or a URL: playlist formats (hls, concat, ffconcat, m3u) are absent, so a
"recording" that is really a playlist cannot make the controller read or fetch anything."""

PIPELINE_DEMUXERS: tuple[str, ...] = (*UPLOAD_DEMUXERS, "s16le")
"""Upload containers plus the raw PCM the pipeline hands between its stages."""


def input_args(
    source: Path | str, demuxers: tuple[str, ...] = PIPELINE_DEMUXERS, forced: str | None = None
) -> list[str]:
    """``-i`` for one input that can read only that file (or stdin), only as ``demuxers``.

    A path becomes ``file:PATH`` so no name is ever read as a protocol; ``forced`` pins the
    demuxer (the container ffprobe found) instead of letting ffmpeg guess again.
    """
    piped = source == "pipe:0"
    args = ["-protocol_whitelist", "pipe" if piped else "file"]
    args += ["-format_whitelist", ",".join(demuxers)]
    if forced is not None:
        args += ["-f", forced]
    return [*args, "-i", "pipe:0" if piped else f"file:{source}"]


def run_tool(args: list[str], stdin: bytes | None = None, timeout: float = 120.0) -> bytes:
    """Run a binary, return its stdout; any failure becomes an ``AudioToolError``."""
    return _run(args, stdin, timeout)[0]


def _run(args: list[str], stdin: bytes | None, timeout: float) -> tuple[bytes, bytes]:
    try:
        proc = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise AudioToolError(f"{args[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise AudioToolError(f"{args[0]} took longer than {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise AudioToolError(f"{args[0]} failed: {' | '.join(tail)}")
    return proc.stdout, proc.stderr


def ffmpeg(
    args: list[str], stdin: bytes | None = None, timeout: float = 300.0
) -> tuple[bytes, str]:
    """Run ``ffmpeg -nostdin -hide_banner ARGS``; return (stdout, stderr text).

    Filters such as ``loudnorm`` and ``ebur128`` report on stderr, hence both are returned.
    """
    base = ["ffmpeg", "-hide_banner", "-nostats"]
    if stdin is None:
        base.append("-nostdin")
    out, err = _run([*base, *args], stdin, timeout)
    return out, err.decode(errors="replace")


def ffprobe_json(
    path: Path, timeout: float = 30.0, demuxers: tuple[str, ...] = UPLOAD_DEMUXERS
) -> dict[str, Any]:
    """ffprobe's format and stream description of a file, as parsed JSON.

    The file is opened as a local file only, and only as one of ``demuxers``.
    """
    out = run_tool(
        [
            "ffprobe",
            "-v",
            "error",
            "-protocol_whitelist",
            "file",
            "-format_whitelist",
            ",".join(demuxers),
            "-show_format",
            "-show_streams",
            "-of",
            "json",
            f"file:{path}",
        ],
        timeout=timeout,
    )
    try:
        parsed = json.loads(out)
    except ValueError:
        raise AudioToolError("ffprobe printed something that is not JSON") from None
    if not isinstance(parsed, dict):
        raise AudioToolError("ffprobe printed an unexpected JSON value")
    return parsed


def probe_duration(path: Path) -> float:
    """Duration in seconds of an encoded audio file, read by ffprobe (needs a seekable file)."""
    try:
        return float(ffprobe_json(path)["format"]["duration"])
    except (KeyError, ValueError, TypeError):
        raise AudioToolError("ffprobe could not read a duration") from None
