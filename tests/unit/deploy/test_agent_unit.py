"""The agent's systemd unit: systemd itself accepts it, and it starts on any Debian system
(a group named in ``SupplementaryGroups=`` that does not exist makes the start fail)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).parents[3] / "deploy" / "agent" / "loa-agent.service"
GROUP_MASTER = Path("/usr/share/base-passwd/group.master")  # groups every Debian system has


def service_section() -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return dict(parser["Service"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd")
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """Only the interpreter path is swapped for one that exists here (verify checks it)."""
    exec_start = service_section()["ExecStart"]
    binary = exec_start.split()[0]
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(binary, sys.executable))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # no warnings either (unknown keys, bad values)


@pytest.mark.skipif(not GROUP_MASTER.exists(), reason="needs Debian's base-passwd")
def test_unit_names_only_groups_that_exist_everywhere() -> None:
    """``gpio`` exists only on Pi OS: the installer adds the loa user to it when present."""
    static = {line.split(":")[0] for line in GROUP_MASTER.read_text().splitlines() if line}
    groups = service_section().get("SupplementaryGroups", "").split()
    assert all(g.lstrip("-") in static for g in groups), groups


def test_unit_lets_the_agent_take_its_real_time_priority() -> None:
    """The agent asks SCHED_FIFO at ``rt_priority`` for its clock thread and mpv only: the
    unit must allow that much (``LimitRTPRIO``), must not forbid it (``RestrictRealtime``),
    must bound a runaway (``LimitRTTIME``) and must not make the whole agent real-time."""
    from agent.config import AgentSettings

    service = service_section()
    default = AgentSettings.model_fields["rt_priority"].default
    assert int(service["LimitRTPRIO"]) >= default > 0
    assert service.get("RestrictRealtime", "no") in ("no", "false", "0")
    assert service["LimitRTTIME"]
    assert service.get("CPUSchedulingPolicy", "other") in ("other", "batch", "idle")
