"""Ordered engines with fall-through: the first that is available and succeeds speaks.

Every skip and failure is logged with its reason and returned, so an operator can see why
a notice came out in espeak's voice (network down, gTTS timed out, no Piper voice...).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from audio.engines.base import SpeechEngine
from audio.errors import AudioRejected, EngineFailed, SynthesisFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    engine: SpeechEngine
    voice: str


@dataclass(frozen=True)
class Synthesis:
    engine: str
    voice: str
    audio: bytes
    skipped: tuple[str, ...] = ()


class EngineChain:
    def __init__(self, engines: Sequence[SpeechEngine]) -> None:
        if not engines:
            raise ValueError("an engine chain needs at least one engine")
        self.engines = tuple(engines)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.engines)

    def candidates(self, engine: str | None = None, voice: str | None = None) -> list[Candidate]:
        """Engines (in order) that may speak with ``voice``; ``engine`` pins one engine.

        Raises ``AudioRejected`` for an unknown engine or a voice no engine offers."""
        pool = list(self.engines)
        if engine is not None:
            pool = [e for e in pool if e.name == engine]
            if not pool:
                raise AudioRejected(f"unknown engine {engine!r}; use one of {list(self.names)}")
        if voice is None:
            found = [Candidate(e, e.default_voice) for e in pool]
        else:
            found = [Candidate(e, voice) for e in pool if voice in e.voices()]
            if not found:
                raise AudioRejected(
                    f"no engine {'/'.join(e.name for e in pool)} has voice {voice!r}"
                )
        return found

    def synthesise(self, text: str, candidates: Sequence[Candidate], rate_wpm: int) -> Synthesis:
        skipped: list[str] = []
        for cand in candidates:
            reason = cand.engine.unavailable_reason()
            if reason is None:
                try:
                    audio = cand.engine.synthesise(text, cand.voice, rate_wpm)
                    return Synthesis(cand.engine.name, cand.voice, audio, tuple(skipped))
                except EngineFailed as exc:
                    reason = exc.reason
            log.info("tts engine %s skipped: %s", cand.engine.name, reason)
            skipped.append(f"{cand.engine.name}: {reason}")
        raise SynthesisFailed("no speech engine could speak: " + "; ".join(skipped))
