"""espeak-ng: the offline engine that is always there (Debian package ``espeak-ng``)."""

from __future__ import annotations

from audio.ffmpeg import AudioToolError, run_tool


def synthesise_wav(text: str, voice: str = "vi", rate_wpm: int = 145) -> bytes:
    """Speak ``text`` (passed on stdin, never on the command line) and return WAV bytes."""
    if not text.strip():
        raise AudioToolError("nothing to say: text is empty")
    return run_tool(
        ["espeak-ng", "-v", voice, "-s", str(rate_wpm), "--stdout"],
        stdin=text.encode("utf-8"),
    )
