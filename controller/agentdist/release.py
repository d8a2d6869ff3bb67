"""``loa agent-dist build``: put one agent release into the folder the controller serves."""

from __future__ import annotations

import shutil
from pathlib import Path

from controller.agentdist.lock import parse_lock
from controller.agentdist.store import INSTALLER, LOCK, TIMESYNC, TOOL, UNIT
from controller.agentdist.wheel import build_wheel

DEPLOY = Path("deploy") / "agent"


def build_release(source_root: Path, dist_root: Path, version: str, lock: Path | None) -> Path:
    """Wheel + lock + scripts into ``dist_root/releases/<version>/``; returns the wheel."""
    target = dist_root / "releases" / version
    staging = dist_root / "releases" / f".{version}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    deploy = source_root / DEPLOY
    lock_path = lock or deploy / LOCK
    parse_lock(lock_path.read_text(encoding="utf-8"))  # a broken lock fails the build, not a Pi
    shutil.copyfile(lock_path, staging / LOCK)
    for name in (TOOL, UNIT, TIMESYNC, INSTALLER):
        shutil.copyfile(deploy / name, staging / name)
    wheel = build_wheel(source_root, staging, version)
    old = dist_root / "releases" / f".{version}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target / wheel.name
