"""Text -> speech -> encoded, content-addressed media file."""

from __future__ import annotations

from dataclasses import dataclass

from audio.espeak import synthesise_wav
from audio.ffmpeg import encode_mp3, probe_duration
from audio.media_store import MediaStore


@dataclass(frozen=True)
class RenderedMedia:
    sha256: str
    ext: str
    size: int
    duration_s: float
    engine: str


class SpeechRenderer:
    """Turns announcement text into a stored MP3; the controller's only audio entry point."""

    def __init__(
        self, store: MediaStore, voice: str = "vi", rate_wpm: int = 145, bitrate_kbps: int = 56
    ) -> None:
        self.store = store
        self.voice = voice
        self.rate_wpm = rate_wpm
        self.bitrate_kbps = bitrate_kbps

    def render_text(self, text: str) -> RenderedMedia:
        wav = synthesise_wav(text, self.voice, self.rate_wpm)
        mp3 = encode_mp3(wav, self.bitrate_kbps)
        stored = self.store.put_bytes(mp3, "mp3")
        return RenderedMedia(
            stored.sha256, "mp3", stored.size, probe_duration(stored.path), "espeak-ng"
        )
