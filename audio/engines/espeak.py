"""espeak-ng: the offline engine that is always there (Debian package ``espeak-ng``).

Robotic but intelligible, instant, and needs no network: the last link of every chain.
"""

from __future__ import annotations

import shutil

from audio.errors import AudioToolError, EngineFailed
from audio.ffmpeg import run_tool

ESPEAK_VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")


class EspeakEngine:
    name = "espeak-ng"

    def __init__(self, voice: str = "vi", binary: str = "espeak-ng", timeout_s: float = 60) -> None:
        self.default_voice = voice
        self.binary = binary
        self.timeout_s = timeout_s

    def voices(self) -> tuple[str, ...]:
        return ESPEAK_VOICES

    def unavailable_reason(self) -> str | None:
        return None if shutil.which(self.binary) else f"{self.binary} is not installed"

    def synthesise(self, text: str, voice: str, rate_wpm: int) -> bytes:
        """Text goes on stdin (never the command line); WAV comes back on stdout."""
        try:
            return run_tool(
                [self.binary, "-v", voice, "-s", str(rate_wpm), "--stdout"],
                stdin=text.encode("utf-8"),
                timeout=self.timeout_s,
            )
        except AudioToolError as exc:
            raise EngineFailed(exc.reason) from None
