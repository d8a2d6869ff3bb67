"""Hole 8: ``loa demo`` never serves its open admin API beyond loopback unless forced."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from cli.commands.demo import check_bind
from cli.errors import CliError


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_binds_are_fine(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    check_bind(host, force_open=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "loa.example.vn"])
def test_other_binds_are_refused_unless_forced(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(CliError, match="--force-open"):
        check_bind(host, force_open=False)
    check_bind(host, force_open=True)
    warning = capsys.readouterr().err
    assert "WARNING" in warning and "OPEN" in warning and host in warning


def test_loa_demo_on_all_interfaces_exits_before_starting_anything() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "demo", "--host", "0.0.0.0", "--run-for", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--force-open" in done.stderr and "Loa xã demo running" not in done.stdout
    assert time.monotonic() - started < 20
