"""Audio integration fixtures: a real store, a renderer on real espeak-ng and ffmpeg."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from audio.engines.espeak import EspeakEngine
from audio.media_store import MediaStore
from audio.pipeline import SpeechRenderer


@dataclass
class CountingEspeak(EspeakEngine):
    """Real espeak-ng that counts its syntheses (to prove cache hits skip it)."""

    calls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def synthesise(self, text: str, voice: str, rate_wpm: int) -> bytes:
        self.calls.append(text)
        return super().synthesise(text, voice, rate_wpm)


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


@pytest.fixture
def espeak() -> CountingEspeak:
    return CountingEspeak()


@pytest.fixture
def renderer(store: MediaStore, espeak: CountingEspeak) -> SpeechRenderer:
    return SpeechRenderer(store, engines=[espeak])


def store_files(store: MediaStore) -> list[str]:
    """Media files (not the index) currently in the store."""
    return sorted(p.name for p in store.root.iterdir() if p.is_file())
