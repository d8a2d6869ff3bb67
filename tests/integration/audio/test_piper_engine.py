"""Piper is optional: without the package or a voice it is skipped with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.engines.piper import PiperEngine

pytestmark = pytest.mark.integration


def test_missing_voice_folder_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    reason = PiperEngine(tmp_path / "voices").unavailable_reason()
    assert reason is not None and ("not installed" in reason or "voice" in reason)


def test_half_installed_voice_is_not_offered(tmp_path: Path) -> None:
    (tmp_path / "vi_VN-vais1000-medium.onnx").write_bytes(b"x")  # no .onnx.json beside it
    assert PiperEngine(tmp_path).voices() == ()
    (tmp_path / "vi_VN-vais1000-medium.onnx.json").write_text("{}")
    assert PiperEngine(tmp_path).voices() == ("vi_VN-vais1000-medium",)


def test_piper_speaks_when_installed_with_a_voice() -> None:
    pytest.importorskip("piper")
    voices = Path.home() / ".local/share/piper-voices"
    engine = PiperEngine(voices)
    if not engine.voices():
        pytest.skip(f"no Piper voice in {voices}")
    assert engine.synthesise("Xin chào bà con.", engine.default_voice, 145)[:4] == b"RIFF"
