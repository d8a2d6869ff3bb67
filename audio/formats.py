"""Output encodings the agents can play: mono MP3 (default, plays everywhere) and Opus
(half the bytes for the same speech quality, for slow village links)."""

from __future__ import annotations

from dataclasses import dataclass

from audio.errors import AudioRejected


@dataclass(frozen=True)
class OutputFormat:
    name: str
    ext: str
    mime: str
    codec: str
    container: str
    default_kbps: int
    min_kbps: int
    max_kbps: int
    extra: tuple[str, ...] = ()

    def encoder_args(self, kbps: int | None = None) -> list[str]:
        rate = self.default_kbps if kbps is None else kbps
        if not self.min_kbps <= rate <= self.max_kbps:
            raise AudioRejected(
                f"{self.name} bitrate {rate} kbps is outside {self.min_kbps}-{self.max_kbps}"
            )
        return ["-ac", "1", "-c:a", self.codec, "-b:a", f"{rate}k", *self.extra]


MP3 = OutputFormat("mp3", "mp3", "audio/mpeg", "libmp3lame", "mp3", 56, 32, 128)
OPUS = OutputFormat(
    "opus", "opus", "audio/ogg", "libopus", "ogg", 28, 16, 64, ("-application", "voip")
)
FORMATS = {f.name: f for f in (MP3, OPUS)}


def output_format(name: str) -> OutputFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise AudioRejected(f"unknown format {name!r}; use one of {sorted(FORMATS)}") from None
