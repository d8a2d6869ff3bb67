"""The installed package (one wheel for controller and agent) carries no load-test harness.

A Raspberry Pi installs this wheel with the ``agent`` extra; simulated fleets, the epoll
network loop, the shared stepper and the benchmarks live in ``loadsim`` and must not come
with it. The wheel is really built (pip, from a copy of the source tree), then listed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# module names that only the harness has (they lived in agent/ and cli/ before)
HARNESS_MODULES = {"fleet", "netloop", "heap"}


def build_wheel(tmp: Path) -> Path:
    source = tmp / "loaxa"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in ROOT.iterdir():
        if (package / "__init__.py").is_file() and package.name != "tests":
            shutil.copytree(
                package, source / package.name, ignore=shutil.ignore_patterns("__pycache__")
            )
    assert (source / "loadsim").is_dir()  # the harness is in the tree the wheel is built from
    out = tmp / "out"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("loaxa-*.whl")
    return wheel


@pytest.mark.slow
def test_the_wheel_has_the_agent_and_no_simulation_or_benchmark_code(tmp_path: Path) -> None:
    names = zipfile.ZipFile(build_wheel(tmp_path)).namelist()
    top = {name.split("/")[0] for name in names}
    assert {"agent", "protocol", "cli"} <= top
    assert "agent/runtime.py" in names and "agent/mqtt_session.py" in names
    assert "loadsim" not in top
    stems = {Path(name).stem for name in names if name.endswith(".py")}
    assert stems.isdisjoint(HARNESS_MODULES), stems & HARNESS_MODULES
