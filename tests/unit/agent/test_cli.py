"""``loa agent`` / ``python -m agent`` refuse bad configuration with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_agent(*args: str, entry: str = "agent") -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", entry] + (["agent"] if entry == "cli.main" else [])
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("entry", ["agent", "cli.main"])
def test_typo_in_config_file_fails_at_start(tmp_path: Path, entry: str) -> None:
    config = tmp_path / "agent.toml"
    config.write_text('node_id = "n1"\nplayr = "null"\n')
    result = run_agent("--config", str(config), entry=entry)
    assert result.returncode == 2
    assert "invalid agent configuration" in result.stderr and "playr" in result.stderr


def test_missing_trusted_keys_is_explained(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(f'node_id = "n1"\nplayer = "null"\ndata_dir = "{tmp_path}"\n')
    result = run_agent("--config", str(config))
    assert result.returncode == 2
    assert "no trusted_keys configured" in result.stderr


def test_enrol_needs_a_controller() -> None:
    result = run_agent("--enrol", "--token", "-")
    assert result.returncode == 2 and "--controller" in result.stderr
