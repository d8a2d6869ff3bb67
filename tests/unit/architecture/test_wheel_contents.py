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
# names that only the harness and the benchmarks define or use (some lived in agent/ and
# cli/ before): none may appear in any installed module
HARNESS_NAMES = [
    "SharedStepper",
    "NetworkLoop",
    "wait_quiet",
    "fleet_node_ids",
    "freeze_startup_heap",
    "gc.freeze",
    "setswitchinterval",
    "BareFleet",
    "bench_env",
]


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
    wheel = zipfile.ZipFile(build_wheel(tmp_path))
    names = wheel.namelist()
    top = {name.split("/")[0] for name in names}
    assert {"agent", "protocol", "cli"} <= top
    assert "agent/runtime.py" in names and "agent/mqtt_session.py" in names
    assert "loadsim" not in top
    assert not [n for n in names if n.startswith(("cli/bench/", "cli/benchmarks/"))]
    assert not [n for n in names if n.startswith(("agent/fleet", "agent/netloop", "agent/heap"))]
    found = {
        (name, marker)
        for name in names
        if name.endswith(".py")
        for marker in HARNESS_NAMES
        if marker in wheel.read(name).decode("utf-8")
    }
    assert not found, sorted(found)
