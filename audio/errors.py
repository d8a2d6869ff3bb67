"""Typed errors of the audio package; each carries a ``reason`` an operator can read.

``AudioRejected`` is the caller's fault (bad upload, empty text, unknown voice) and maps to
HTTP 4xx; ``AudioToolError`` and ``SynthesisFailed`` are ours or the machine's (5xx).
"""

from __future__ import annotations


class AudioError(Exception):
    """Base of every audio error; ``reason`` is the message without a traceback.

    ``code`` (with ``values``) names the case for a translated message, so the Vietnamese
    panel never shows the English ``reason``; empty when the case has no name yet.
    """

    def __init__(self, reason: str, code: str = "", **values: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.values = values


class AudioRejected(AudioError, ValueError):
    """The input cannot be turned into media: not audio, empty, truncated, too big or long,
    empty text, unknown engine or voice. Nothing was stored."""


class AudioToolError(AudioError, RuntimeError):
    """ffmpeg, ffprobe or a TTS binary failed or is missing."""


class EngineFailed(AudioError):
    """One speech engine could not synthesise this text (network down, timeout, crash)."""


class SynthesisFailed(AudioError, RuntimeError):
    """Every engine in the chain was skipped or failed; ``reason`` lists why, per engine."""
