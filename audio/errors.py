"""Typed errors of the audio package; each carries a ``reason`` an operator can read.

``AudioRejected`` is the caller's fault (bad upload, empty text, unknown voice) and maps to
HTTP 4xx; ``AudioToolError`` and ``SynthesisFailed`` are ours or the machine's (5xx).
"""

from __future__ import annotations


class AudioError(Exception):
    """Base of every audio error; ``reason`` is the message without a traceback."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AudioRejected(AudioError, ValueError):
    """The input cannot be turned into media: not audio, empty, truncated, too big or long,
    empty text, unknown engine or voice. Nothing was stored."""


class AudioToolError(AudioError, RuntimeError):
    """ffmpeg, ffprobe or a TTS binary failed or is missing."""


class EngineFailed(AudioError):
    """One speech engine could not synthesise this text (network down, timeout, crash)."""


class SynthesisFailed(AudioError, RuntimeError):
    """Every engine in the chain was skipped or failed; ``reason`` lists why, per engine."""
