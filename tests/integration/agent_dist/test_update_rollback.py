"""Over-the-air updates with rollback, on a real installed agent.

The node is installed by the served installer (sandbox prefix) and runs under
``loa-release run``, the supervisor systemd starts. ``loa fleet update`` sends the signed
update command; the agent installs 0.1.1 (built here with a bumped version) side by side,
switches ``current`` and restarts into it, and the new release confirms itself by connecting
and reporting its version. Then 0.1.2, built from a copy of this tree that fails at import:
the new release never starts, loa-release (shell, outside every release) counts the starts,
restores 0.1.1, and 0.1.1 reports ``update_failed`` with the reason; the rollout halts.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from support.processes import wait_until
from support.served_controller import ServedController

from controller.db.models import PlaybackEvent

from .conftest import (
    REPO,
    NodeAgent,
    Pki,
    api,
    build,
    loa,
    new_node,
    reported_version,
    run_installer,
    wait_version,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def events(server: ServedController, kind: str) -> list[str]:
    with server.ctl.sessions() as session:
        rows = session.scalars(
            select(PlaybackEvent)
            .where(PlaybackEvent.node_id == "loa-1", PlaybackEvent.kind == kind)
            .order_by(PlaybackEvent.seq)
        )
        return [r.detail for r in rows]


def broken_source(tmp: Path) -> Path:
    """This tree, except that importing the agent package fails."""
    src = tmp / "broken-src"
    ignore = shutil.ignore_patterns("__pycache__")
    for part in ("agent", "protocol", "cli", "deploy/agent"):
        shutil.copytree(REPO / part, src / part, ignore=ignore)
    with (src / "agent" / "__init__.py").open("a") as fh:
        fh.write('\nraise ImportError("this release is broken on purpose")\n')
    return src


def fleet_update(server: ServedController, pki: Pki, version: str) -> dict[str, object]:
    r = loa("fleet", "--url", server.url, "--cacert", str(pki[0]),
            "update", "--version", version, "--canary", "1")  # fmt: skip
    assert r.returncode == 0, r.stderr
    answer: dict[str, object] = json.loads(r.stdout)
    return answer


def rollout(server: ServedController, pki: Pki) -> dict[str, object]:
    with api(server, pki) as client:
        r = client.get("/api/v1/agent-rollouts/latest")
        assert r.status_code == 200, r.text
        answer: dict[str, object] = r.json()
        return answer


def test_update_then_a_broken_release_is_rolled_back(
    tmp_path: Path, served: ServedController, pki: Pki, dist: tuple[Path, Path]
) -> None:
    root, lock = dist
    prefix = tmp_path / "node"
    r = run_installer(served, pki, new_node(served, pki, "loa-1"), prefix)
    assert r.returncode == 0, r.stdout + r.stderr
    node = NodeAgent(prefix)
    node.start(LOA_UPDATE_TRIAL_S="240", LOA_UPDATE_MAX_STARTS="3")
    try:
        wait_version(served, node, "0.1.0", 60)

        # N -> N+1
        build(root, "0.1.1", lock)
        started = fleet_update(served, pki, "0.1.1")
        assert started["state"] == "canary" and started["version"] == "0.1.1"
        wait_version(served, node, "0.1.1", 240)
        wait_until(lambda: "0.1.1" in events(served, "update_installed"), 60)
        wait_until(lambda: rollout(served, pki)["state"] == "done", 60)
        assert os.readlink(prefix / "current") == "releases/0.1.1"
        assert (prefix / "releases" / "0.1.0" / "bin" / "python").exists()  # kept for rollback

        # N+1 -> broken N+2: rolled back by loa-release, reported by the restored release
        build(root, "0.1.2", lock, source=broken_source(tmp_path))
        fleet_update(served, pki, "0.1.2")
        try:
            wait_until(
                lambda: any(d.startswith("0.1.2:") for d in events(served, "update_failed")), 300
            )
        except AssertionError:
            raise AssertionError(f"no update_failed; agent log:\n{node.log()}") from None
        failed = [d for d in events(served, "update_failed") if d.startswith("0.1.2:")]
        assert "crash loop" in failed[0], failed
        assert os.readlink(prefix / "current") == "releases/0.1.1"
        assert not (prefix / "trial").exists()
        wait_until(lambda: reported_version(served, "loa-1") == "0.1.1", 60)
        assert "this release is broken on purpose" in node.log()
        status = rollout(served, pki)
        assert status["version"] == "0.1.2" and status["state"] == "halted", status
        nodes = status["nodes"]
        assert isinstance(nodes, list) and nodes[0]["state"] == "failed"
        assert node.proc is not None and node.proc.poll() is None  # still supervised, playing
    finally:
        node.stop()
