"""Piper neural voices: natural and offline, when the optional ``piper`` extra and a voice
(``<name>.onnx`` with ``<name>.onnx.json``) are present in the configured folder.

Voices are never downloaded here: an operator copies them in. The loaded model is kept,
since loading takes longer than synthesising a notice.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Any

from audio.errors import EngineFailed


class PiperEngine:
    name = "piper"

    def __init__(self, voices_dir: Path | None) -> None:
        self.voices_dir = voices_dir
        self._loaded: dict[str, Any] = {}

    def voices(self) -> tuple[str, ...]:
        if self.voices_dir is None or not self.voices_dir.is_dir():
            return ()
        return tuple(
            sorted(
                model.name.removesuffix(".onnx")
                for model in self.voices_dir.glob("*.onnx")
                if model.with_name(model.name + ".json").is_file()
            )
        )

    @property
    def default_voice(self) -> str:
        found = self.voices()
        return found[0] if found else ""

    def unavailable_reason(self) -> str | None:
        try:
            import piper  # noqa: F401
        except ImportError:
            return "piper-tts is not installed (extra 'piper')"
        if self.voices_dir is None:
            return "no Piper voice folder configured"
        if not self.voices():
            return f"no *.onnx + *.onnx.json voice in {self.voices_dir}"
        return None

    def _voice(self, name: str) -> Any:
        if name not in self._loaded:
            from piper import PiperVoice

            assert self.voices_dir is not None
            model = self.voices_dir / f"{name}.onnx"
            self._loaded[name] = PiperVoice.load(model, config_path=Path(f"{model}.json"))
        return self._loaded[name]

    def synthesise(self, text: str, voice: str, rate_wpm: int) -> bytes:
        if voice not in self.voices():
            raise EngineFailed(f"Piper voice {voice!r} not found in {self.voices_dir}")
        buf = io.BytesIO()
        try:
            model = self._voice(voice)
            with wave.open(buf, "wb") as out:
                write = getattr(model, "synthesize_wav", None) or model.synthesize
                write(text, out)
        except Exception as exc:  # onnxruntime raises its own types
            raise EngineFailed(f"Piper failed: {exc}") from None
        return buf.getvalue()
