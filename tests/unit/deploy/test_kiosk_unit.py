"""The e-board's Chromium kiosk unit: systemd accepts it, and it opens the agent's loopback
kiosk page (never a remote address)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).parents[3] / "deploy" / "agent" / "loa-kiosk.service"


def _exec_start() -> str:
    line = next(x for x in UNIT.read_text().splitlines() if x.startswith("ExecStart="))
    return line.removeprefix("ExecStart=")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd")
def test_kiosk_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """cage is not installed on a build machine: only its path is swapped for one that exists."""
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/usr/bin/cage", sys.executable))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_kiosk_opens_only_the_loopback_page() -> None:
    args = _exec_start().split()
    assert "--kiosk" in args and "--incognito" in args
    urls = [a for a in args if a.startswith("http")]
    assert urls == ["http://127.0.0.1:8090/"]
