"""``loa-release``, the shell supervisor outside every release, with stand-in releases.

Each stand-in ``releases/<v>/bin/python`` is a tiny shell script that behaves like an agent
release (healthy and confirming its trial, crashing at import, hanging without ever coming
back, asking for a restart), so the rollback paths run in seconds with the real script and
``sh``; the full pip-installed path is tests/integration/agent_dist/test_update_rollback.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "agent" / "loa-release.sh"

HEALTHY = """#!/bin/sh
echo "$(readlink -f "$0") start" >> "$LOA_RELEASE_ROOT/starts"
v=$(basename "$(dirname "$(dirname "$(readlink -f "$0")")")")
if [ -f "$LOA_RELEASE_ROOT/trial" ] && [ "$(cut -d' ' -f1 "$LOA_RELEASE_ROOT/trial")" = "$v" ]; then
    rm -f "$LOA_RELEASE_ROOT/trial"     # connected and reporting: the trial is over
fi
trap 'exit 0' TERM
while :; do sleep 0.1; done
"""
RECORD_START = '#!/bin/sh\necho "$(readlink -f "$0") start" >> "$LOA_RELEASE_ROOT/starts"\n'
CRASHING = RECORD_START + "exit 1\n"
HANGING = RECORD_START + "exec sleep 1000\n"


def release(root: Path, version: str, body: str) -> None:
    python = root / "releases" / version / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(body)
    python.chmod(0o755)


def tool(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(SCRIPT), *args],
        env={**os.environ, "LOA_ROOT": str(root), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def supervise(root: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["sh", str(SCRIPT), "run", "--", "--config", "x.toml"],
        env={**os.environ, "LOA_ROOT": str(root), **env},
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        time.sleep(0.05)


def starts(root: Path, version: str) -> int:
    path = root / "starts"
    lines = path.read_text().splitlines() if path.exists() else []
    return sum(1 for line in lines if f"/releases/{version}/" in line)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    release(tmp_path, "1.0", HEALTHY)
    assert tool(tmp_path, "switch", "1.0").returncode == 0
    return tmp_path


def stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(20)


def test_switch_is_a_symlink_and_a_trial_only_for_an_update(root: Path) -> None:
    assert os.readlink(root / "current") == "releases/1.0"
    assert not (root / "trial").exists()  # first install: nothing to roll back to
    release(root, "1.1", HEALTHY)
    assert tool(root, "switch", "1.1", "--trial").returncode == 0
    assert os.readlink(root / "current") == "releases/1.1"
    version, previous, _deadline, started = (root / "trial").read_text().split()
    assert (version, previous, started) == ("1.1", "1.0", "0")
    assert tool(root, "switch", "9.9").returncode != 0  # not installed: refused
    assert os.readlink(root / "current") == "releases/1.1"


def test_a_release_that_comes_back_ends_its_trial(root: Path) -> None:
    release(root, "1.1", HEALTHY)
    tool(root, "switch", "1.1", "--trial")
    proc = supervise(root)
    try:
        wait_for(lambda: not (root / "trial").exists())
        assert os.readlink(root / "current") == "releases/1.1"
        assert not (root / "update-result").exists()
    finally:
        assert stop(proc) == 0


def test_a_release_failing_at_import_is_rolled_back_after_the_allowed_starts(root: Path) -> None:
    release(root, "1.1", CRASHING)
    tool(root, "switch", "1.1", "--trial")
    proc = supervise(root, LOA_UPDATE_MAX_STARTS="3")
    try:
        wait_for(lambda: starts(root, "1.0") == 1)
        assert starts(root, "1.1") == 3
        assert os.readlink(root / "current") == "releases/1.0"
        result = (root / "update-result").read_text()
        assert result.startswith("update_failed 1.1 crash loop"), result
        assert not (root / "trial").exists()
    finally:
        stop(proc)


def test_a_release_that_never_comes_back_is_rolled_back_at_the_deadline(root: Path) -> None:
    release(root, "1.1", HANGING)
    tool(root, "switch", "1.1", "--trial", LOA_UPDATE_TRIAL_S="2")
    proc = supervise(root)
    try:
        wait_for(lambda: starts(root, "1.0") == 1, 30)
        assert starts(root, "1.1") == 1
        assert os.readlink(root / "current") == "releases/1.0"
        assert "did not come back within" in (root / "update-result").read_text()
    finally:
        stop(proc)


def test_status_75_restarts_and_another_failure_is_left_to_systemd(root: Path) -> None:
    release(root, "2.0", RECORD_START +
            'n=$(grep -c releases/2.0 "$LOA_RELEASE_ROOT/starts")\n'
            '[ "$n" -ge 2 ] && exit 3\nexit 75\n')  # fmt: skip
    tool(root, "switch", "2.0")
    proc = supervise(root)
    assert proc.wait(20) == 3  # restarted once after 75; then its own failure status
    assert starts(root, "2.0") == 2


def test_install_refuses_the_running_release_and_a_bad_version(root: Path) -> None:
    r = tool(root, "install", str(root), "1.0", "python3")
    assert r.returncode != 0 and "running one" in r.stderr
    r = tool(root, "install", str(root), "1.0;rm", "python3")
    assert r.returncode != 0 and "bad version" in r.stderr
