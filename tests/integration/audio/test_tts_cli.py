"""``loa tts`` end to end (real espeak-ng, ffmpeg; the store in a temp dir)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.ffmpeg import ffprobe_json
from cli.main import main

pytestmark = pytest.mark.integration


def test_loa_tts_writes_the_file_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.mp3"
    argv = ["tts", "Kính thưa bà con, HTX thu phí lúc 8h.", "-o", str(out), "--show-text"]
    argv += ["--engine", "espeak-ng", "--store", str(tmp_path / "store")]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "engine:   espeak-ng" in printed
    assert "hợp tác xã thu phí lúc tám giờ" in printed
    assert "duration:" in printed and "size:" in printed
    assert ffprobe_json(out)["streams"][0]["codec_name"] == "mp3"
    assert main(argv) == 0 and "[cached]" in capsys.readouterr().out


def test_loa_tts_reports_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["tts", "Xin chào", "-o", str(tmp_path / "x.mp3"), "--engine", "festival"]
    assert main([*argv, "--store", str(tmp_path)]) == 2
    assert "unknown engine" in capsys.readouterr().err
