"""Real audio files made by ffmpeg for upload tests, including hostile ones."""

from __future__ import annotations

import struct
from pathlib import Path

from audio.ffmpeg import run_tool


def tone(seconds: float, fmt: str, *codec: str, frequency: int = 440) -> bytes:
    """A real mono sine tone encoded by ffmpeg as ``fmt`` (``wav``, ``mp3`` …), in memory."""
    source = f"sine=frequency={frequency}:duration={seconds}"
    return run_tool(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", source, "-ac", "1", *codec,
         "-f", fmt, "pipe:1"]
    )  # fmt: skip


def mp3_tone(path: Path, seconds: float, *extra: str) -> bytes:
    """A real 8 kbps mono MP3 tone, written by ffmpeg/LAME with no ID3 tag."""
    run_tool(
        [
            "ffmpeg", "-loglevel", "error", "-f", "lavfi",
            "-i", f"sine=frequency=440:duration={seconds}:sample_rate=8000",
            "-c:a", "libmp3lame", "-b:a", "8k", "-id3v2_version", "0", *extra, "-y", str(path),
        ]
    )  # fmt: skip
    return path.read_bytes()


def lying_mp3(work: Path, minutes: int) -> bytes:
    """One second of MP3 whose LAME "Info" header counts its frames (so ffprobe reports
    ~1 s), followed by ``minutes`` of further MP3 frames. The header's byte count is patched to
    the whole file's size, so ffmpeg does not notice the concatenation and trusts the 1 s."""
    head = mp3_tone(work / "one.mp3", 1.0)
    minute = mp3_tone(work / "minute.mp3", 60.0, "-write_xing", "0")
    data = bytearray(head + minute * minutes)
    info = head.find(b"Info")
    assert info > 0 and struct.unpack(">I", head[info + 4 : info + 8])[0] & 0x3 == 0x3
    struct.pack_into(">I", data, info + 12, len(data))  # flags say: frames, then bytes
    return bytes(data)
