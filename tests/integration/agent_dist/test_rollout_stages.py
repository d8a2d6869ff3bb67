"""Staged rollouts on the controller's real database (SQLite; PostgreSQL with
LOA_TEST_POSTGRES=1): canary first, then waves, halting itself on failures.

Node outcomes are written as the ingest writes them (``playback_events`` rows of kind
``update_installed`` / ``update_failed``); the agent side is tests/.../test_update_rollback.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import select

from controller.agentdist.lock import file_sha256
from controller.agentdist.release import build_release
from controller.config import ControllerSettings
from controller.db.models import Command as CommandRow
from controller.db.models import PlaybackEvent, Zone
from controller.services.container import Controller
from controller.services.provisioning import create_node
from controller.services.rollout import RolloutError, RolloutPlan, advance, start_rollout, status
from protocol.clock import FakeClock
from protocol.models import Command, CommandAction
from protocol.signing import Verifier

from .conftest import REPO

NODES = ["n1", "n2", "n3", "n4", "n5"]
_seq = count(1)


@pytest.fixture
def ctl(tmp_path: Path) -> Controller:
    dist = tmp_path / "dist"
    build_release(REPO, dist, "2.0", REPO / "deploy" / "agent" / "requirements.lock")
    settings = ControllerSettings(data_dir=tmp_path / "ctl", agent_dist_dir=dist,
                                  public_url="https://loa.example.vn")  # fmt: skip
    controller = Controller.build(settings, FakeClock(datetime(2026, 3, 1, tzinfo=UTC)))
    with controller.sessions.begin() as s:
        s.add(Zone(id="xa", name="Xã", created_at=controller.clock.now()))
        s.flush()
        for n in NODES:
            create_node(s, node_id=n, name=n, zone_id="xa", now=controller.clock.now(),
                        identity=controller.identity().pins)  # fmt: skip
    return controller


def report(ctl: Controller, node: str, kind: str, detail: str) -> None:
    with ctl.sessions.begin() as s:
        now = ctl.clock.now()
        s.add(PlaybackEvent(node_id=node, seq=next(_seq), kind=kind, at=now, detail=detail,
                            received_at=now))  # fmt: skip


def states(ctl: Controller) -> dict[str, str]:
    found = status(ctl)
    assert found is not None
    return {n["node_id"]: n["state"] for n in found["nodes"]}  # type: ignore[attr-defined]


def test_canary_then_waves_then_halt_when_too_many_fail(ctl: Controller) -> None:
    plan = RolloutPlan("2.0", ["xa"], canary=1, wave=2, max_failed_pct=40)
    rid = start_rollout(ctl, plan, "admin")
    assert states(ctl) == {"n1": "sent", "n2": "waiting", "n3": "waiting", "n4": "waiting",
                           "n5": "waiting"}  # fmt: skip
    with ctl.sessions() as s:
        rows = list(s.scalars(select(CommandRow)))
    assert [r.node_id for r in rows] == ["n1"] and rows[0].action == "update"
    command = Verifier([ctl.signer.public_key]).verify(Command, rows[0].payload.encode())
    assert command.action is CommandAction.UPDATE and command.update is not None
    wheel = ctl.settings.resolved_agent_dist_dir / "releases/2.0/loaxa_agent-2.0-py3-none-any.whl"
    assert command.update.sha256 == file_sha256(wheel)
    assert command.update.url == "https://loa.example.vn/agent/files/2.0/" + wheel.name

    with pytest.raises(RolloutError, match="still running"):
        start_rollout(ctl, plan)
    advance(ctl)
    assert states(ctl)["n2"] == "waiting"  # the canary has not come back yet

    ctl.clock.advance(60)  # type: ignore[attr-defined]
    report(ctl, "n1", "update_installed", "2.0")
    assert states(ctl) == {"n1": "updated", "n2": "sent", "n3": "sent", "n4": "waiting",
                           "n5": "waiting"}  # fmt: skip
    ctl.clock.advance(60)  # type: ignore[attr-defined]
    report(ctl, "n2", "update_failed", "2.0: crash loop: 2.0 started 3 times")
    found = status(ctl)
    assert found is not None and found["state"] == "halted"  # 1 of 2 finished > 40 %
    assert states(ctl)["n4"] == "waiting" and states(ctl)["n5"] == "waiting"
    advance(ctl)
    with ctl.sessions() as s:
        assert len(list(s.scalars(select(CommandRow)))) == 3  # nothing more sent
    assert rid == found["id"]


def test_rollout_completes_and_refuses_unknown_versions_and_zones(ctl: Controller) -> None:
    with pytest.raises(RolloutError, match="no agent release"):
        start_rollout(ctl, RolloutPlan("9.9", []))
    with pytest.raises(RolloutError, match="unknown zone"):
        start_rollout(ctl, RolloutPlan("2.0", ["nowhere"]))
    start_rollout(ctl, RolloutPlan("2.0", [], canary=0, wave=10))
    assert set(states(ctl).values()) == {"sent"}
    ctl.clock.advance(5)  # type: ignore[attr-defined]
    report(ctl, "n1", "update_installed", "1.0")  # another version: not this rollout's
    for n in NODES[1:]:
        report(ctl, n, "update_installed", "2.0")
    assert states(ctl)["n1"] == "sent"
    report(ctl, "n1", "update_installed", "2.0")
    found = status(ctl)
    assert found is not None and found["state"] == "done" and found["detail"].startswith("5 upd")  # type: ignore[union-attr]


def test_the_rollout_api_needs_an_admin_and_refuses_bad_input(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from controller.app import create_app

    dist = tmp_path / "dist"
    build_release(REPO, dist, "2.0", REPO / "deploy" / "agent" / "requirements.lock")
    settings = ControllerSettings(data_dir=tmp_path / "ctl", agent_dist_dir=dist,
                                  api_token="a-long-random-token-for-the-test",  # type: ignore[arg-type]
                                  api_anonymous_admin=False)  # fmt: skip
    with TestClient(create_app(settings, start_services=False)) as client:
        body = {"version": "2.0", "canary": 1}
        assert client.post("/api/v1/agent-rollouts", json=body).status_code == 401
        admin = {"authorization": "Bearer a-long-random-token-for-the-test"}
        bad = client.post("/api/v1/agent-rollouts", json={"version": "2.0; rm"}, headers=admin)
        assert bad.status_code == 422
        unknown = client.post("/api/v1/agent-rollouts", json={"version": "7.7"}, headers=admin)
        assert unknown.status_code == 422 and "no agent release" in unknown.text
        none = client.post("/api/v1/agent-rollouts", json=body, headers=admin)
        assert none.status_code == 422 and "no nodes" in none.text  # an empty fleet
        assert client.get("/api/v1/agent-rollouts/latest", headers=admin).status_code == 404
        # the distribution itself is public: nodes have no login
        assert client.get("/agent/versions").json()["versions"] == ["2.0"]
        assert client.get("/agent/2.0/manifest.json").status_code == 200
