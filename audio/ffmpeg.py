"""Thin, typed wrappers around the ffmpeg/ffprobe binaries (Debian packages)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


class AudioToolError(RuntimeError):
    """ffmpeg, ffprobe or a TTS binary failed; ``reason`` is readable by an operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def run_tool(args: list[str], stdin: bytes | None = None, timeout: float = 120.0) -> bytes:
    try:
        proc = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise AudioToolError(f"{args[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise AudioToolError(f"{args[0]} took longer than {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise AudioToolError(f"{args[0]} failed: {' | '.join(tail)}")
    return proc.stdout


def encode_mp3(wav_or_any: bytes, bitrate_kbps: int = 56) -> bytes:
    """Decode anything ffmpeg reads from stdin and encode mono 24 kHz MP3 to memory."""
    return run_tool(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            "pipe:0",
            "-vn",
            "-ac",
            "1",
            "-ar",
            "24000",
            "-codec:a",
            "libmp3lame",
            "-b:a",
            f"{bitrate_kbps}k",
            "-f",
            "mp3",
            "pipe:1",
        ],
        stdin=wav_or_any,
    )


def probe_duration(path: Path) -> float:
    """Duration in seconds of an encoded audio file, read by ffprobe (needs a seekable file)."""
    out = run_tool(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)]
    )
    try:
        return float(json.loads(out)["format"]["duration"])
    except (KeyError, ValueError, TypeError):
        raise AudioToolError("ffprobe could not read a duration") from None
