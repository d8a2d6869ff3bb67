"""Speech engines behind one interface, and the fall-through chain that orders them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from audio.engines.base import SpeechEngine
from audio.engines.chain import EngineChain
from audio.engines.espeak import EspeakEngine
from audio.engines.google import GoogleTtsEngine
from audio.engines.piper import PiperEngine

DEFAULT_ORDER = ("gtts", "piper", "espeak-ng")


def build_engines(
    order: tuple[str, ...] = DEFAULT_ORDER,
    espeak_voice: str = "vi",
    piper_voices_dir: Path | None = None,
    gtts_timeout_s: float = 8.0,
) -> list[SpeechEngine]:
    """Engines by name in the given order; unknown names are a configuration error."""
    makers: dict[str, Callable[[], SpeechEngine]] = {
        "gtts": lambda: GoogleTtsEngine(timeout_s=gtts_timeout_s),
        "piper": lambda: PiperEngine(piper_voices_dir),
        "espeak-ng": lambda: EspeakEngine(espeak_voice),
    }
    unknown = [name for name in order if name not in makers]
    if unknown:
        raise ValueError(f"unknown TTS engines {unknown}; known: {sorted(makers)}")
    engines: list[SpeechEngine] = [makers[name]() for name in order]
    return engines


__all__ = [
    "DEFAULT_ORDER",
    "EngineChain",
    "EspeakEngine",
    "GoogleTtsEngine",
    "PiperEngine",
    "SpeechEngine",
    "build_engines",
]
