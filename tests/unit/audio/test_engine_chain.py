"""The chain's fall-through, with dummy engines (no sound, no network)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from audio.engines.chain import EngineChain
from audio.errors import AudioRejected, EngineFailed, SynthesisFailed


@dataclass
class DummyEngine:
    name: str
    default_voice: str = "vi"
    down: str | None = None
    fail: str | None = None
    calls: list[str] = field(default_factory=list)

    def voices(self) -> tuple[str, ...]:
        return (self.default_voice,)

    def unavailable_reason(self) -> str | None:
        return self.down

    def synthesise(self, text: str, voice: str, rate_wpm: int) -> bytes:
        self.calls.append(text)
        if self.fail:
            raise EngineFailed(self.fail)
        return f"{self.name}:{voice}:{rate_wpm}".encode()


def test_first_available_engine_speaks_and_skips_are_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    online = DummyEngine("gtts", down="no network")
    broken = DummyEngine("piper", fail="model crashed")
    offline = DummyEngine("espeak-ng")
    chain = EngineChain([online, broken, offline])
    with caplog.at_level(logging.INFO):
        got = chain.synthesise("xin chào", chain.candidates(), 145)
    assert got.engine == "espeak-ng" and got.audio == b"espeak-ng:vi:145"
    assert got.skipped == ("gtts: no network", "piper: model crashed")
    assert online.calls == [] and broken.calls == ["xin chào"]
    assert "gtts skipped: no network" in caplog.text


def test_every_engine_failing_raises_with_all_reasons() -> None:
    chain = EngineChain([DummyEngine("a", down="off"), DummyEngine("b", fail="boom")])
    with pytest.raises(SynthesisFailed, match="a: off; b: boom"):
        chain.synthesise("x", chain.candidates(), 145)


def test_pinned_engine_and_voice_selection() -> None:
    chain = EngineChain([DummyEngine("gtts"), DummyEngine("espeak-ng", "vi-vn-x-south")])
    assert [c.engine.name for c in chain.candidates(engine="espeak-ng")] == ["espeak-ng"]
    assert [c.voice for c in chain.candidates(voice="vi-vn-x-south")] == ["vi-vn-x-south"]
    with pytest.raises(AudioRejected, match="unknown engine"):
        chain.candidates(engine="festival")
    with pytest.raises(AudioRejected, match="voice"):
        chain.candidates(engine="gtts", voice="vi-vn-x-south")
