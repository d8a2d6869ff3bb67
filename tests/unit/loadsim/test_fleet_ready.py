"""A benchmark issues its command when the simulated fleet is ready, not merely online.

"Online" (each session's retained status) comes seconds before the fleet's shared step
thread has run every agent's start-up steps; an emergency issued then measured that
backlog (most of a narrow ~2 s figure). Ready = every node's first heartbeat is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from controller.db.engine import make_engine, make_session_factory
from controller.db.models import Base, Node, Zone
from loadsim.bench._report import BenchError
from loadsim.bench._support import wait_for_fleet_online, wait_for_fleet_ready

NODES = ["emg-001", "emg-002", "emg-003"]


@dataclass
class FakeFleet:
    """Stands for the fleet's process: only ``poll`` is asked (None while it runs)."""

    code: int | None = None

    def poll(self) -> int | None:
        return self.code


@dataclass
class Ctl:
    sessions: sessionmaker[Session]


@dataclass
class Env:
    root: Path
    ctl: Ctl


@pytest.fixture
def env(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'ctl.sqlite'}")
    Base.metadata.create_all(engine)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    with sessions.begin() as s:
        s.add(Zone(id="z", name="z", created_at=now))
        s.flush()
        s.add_all(Node(id=n, name=n, zone_id="z", created_at=now, online=True) for n in NODES)
    yield Env(tmp_path, Ctl(sessions))
    engine.dispose()


def heartbeat(env: Env, *node_ids: str) -> None:
    with env.ctl.sessions.begin() as s:
        s.execute(
            update(Node).where(Node.id.in_(node_ids)).values(last_heartbeat_at=datetime.now(UTC))
        )


def test_online_without_first_heartbeats_is_not_ready(env: Env) -> None:
    fleet = FakeFleet()
    assert wait_for_fleet_online(env, fleet, len(NODES), timeout=0) >= 0
    with pytest.raises(BenchError, match="only 0 of 3 agents sent a heartbeat"):
        wait_for_fleet_ready(env, fleet, len(NODES), timeout=0, settle_s=0)
    heartbeat(env, *NODES[:2])
    with pytest.raises(BenchError, match="only 2 of 3"):
        wait_for_fleet_ready(env, fleet, len(NODES), timeout=0, settle_s=0)


def test_ready_once_every_node_has_heartbeated(env: Env) -> None:
    heartbeat(env, *NODES)
    assert wait_for_fleet_ready(env, FakeFleet(), len(NODES), timeout=0, settle_s=0) >= 0


def test_a_fleet_that_exited_is_an_error_with_its_log(env: Env) -> None:
    (env.root / "fleet.log").write_text("Traceback: agent settings invalid\n")
    with pytest.raises(BenchError, match="agent settings invalid"):
        wait_for_fleet_ready(env, FakeFleet(code=1), len(NODES), timeout=5, settle_s=0)
