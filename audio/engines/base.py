"""The speech-engine interface every TTS backend implements.

An engine says whether it can run *now* (``unavailable_reason``: cheap, no synthesis) and
turns normalised text into audio bytes in any format ffmpeg decodes. The chain relies on
engines raising ``EngineFailed`` (never anything else) for an expected failure.
"""

from __future__ import annotations

from typing import Protocol


class SpeechEngine(Protocol):
    @property
    def name(self) -> str:
        """Stable id used in cache keys, logs and ``--engine``."""
        ...

    @property
    def default_voice(self) -> str: ...

    def voices(self) -> tuple[str, ...]:
        """Voices this engine accepts for ``synthesise``."""
        ...

    def unavailable_reason(self) -> str | None:
        """None when the engine can be tried now, else why not (logged on skip)."""
        ...

    def synthesise(self, text: str, voice: str, rate_wpm: int) -> bytes:
        """Speak ``text``; returns encoded audio (WAV, MP3...). Raises ``EngineFailed``."""
        ...
