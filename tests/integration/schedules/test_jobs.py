"""The controller's jobs on a real SQLite file (and a real broker for publishing): the
leader lease between two controllers, liveness, retention, pre-render and the horizon."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from controller.broker.process import MosquittoProcess
from controller.db.models import Heartbeat, Node, ScheduleEntryRow, Zone
from controller.jobs.runner import JobRunner, stored_job
from controller.jobs.tasks import (
    mark_silent_nodes_offline,
    prerender_speech,
    prune_heartbeats,
    run_horizon,
)
from controller.services.container import Controller
from controller.services.schedule_store import save_entry
from protocol.clock import FakeClock
from schedules import ScheduleEntry
from tests.support.processes import wait_until

from .conftest import settings_for

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def _controller(tmp_path: Path, port: int, clock: FakeClock, name: str) -> Controller:
    return Controller.build(settings_for(tmp_path, port, client_id=name), clock)


def _seed_nodes(ctl: Controller, count: int = 3) -> None:
    now = ctl.clock.now()
    with ctl.sessions.begin() as session:
        session.add(Zone(id="vi-huong", name="Vi Hương", created_at=now))
        session.flush()
        for i in range(count):
            session.add(Node(id=f"loa-{i}", name=f"Loa {i}", zone_id="vi-huong", created_at=now))


def test_one_scheduler_among_two_controllers_and_takeover(tmp_path: Path, clock: FakeClock) -> None:
    a = _controller(tmp_path, 1, clock, "ctl-a")
    b = _controller(tmp_path, 1, clock, "ctl-b")  # same data_dir: same SQLite file
    fast = a.settings.model_copy(update={"lease_ttl_s": 15, "horizon_interval_min": 600})
    runner_a, runner_b = JobRunner(a, fast), JobRunner(b, fast)
    try:
        assert runner_a.tick() is True and runner_a.leading
        assert runner_b.tick() is False and not runner_b.leading
        clock.advance(10)
        assert runner_a.tick() and not runner_b.tick()  # renewed in time: still a's
        clock.advance(16)  # a froze (no renewal) for longer than the TTL
        assert runner_b.tick() is True and runner_b.leading
        assert runner_a.tick() is False and not runner_a.leading  # a notices and stops
        runner_b.stop()  # a clean stop releases at once
        assert runner_a.tick() is True
        assert runner_a.lease.current_holder() == runner_a.lease.holder
        assert runner_a.scheduler is not None
        assert {j.id for j in runner_a.scheduler.get_jobs()} == {
            "horizon",
            "liveness",
            "alerts",
            "retention",
            "prerender",
            "rollouts",
        }
    finally:
        runner_a.stop()
        runner_b.stop()
        a.engine.dispose()
        b.engine.dispose()


def test_jobs_persist_in_the_database_across_restarts(tmp_path: Path, clock: FakeClock) -> None:
    first = _controller(tmp_path, 1, clock, "ctl-a")
    js = first.settings.model_copy(update={"horizon_interval_min": 600})
    runner = JobRunner(first, js)
    runner.tick()
    job = runner.scheduler.get_job("liveness")  # type: ignore[union-attr]
    assert job.coalesce is True and job.misfire_grace_time == 15
    assert runner.scheduler.get_job("horizon").misfire_grace_time is None  # type: ignore[union-attr]
    runner.stop()
    first.engine.dispose()
    second = _controller(tmp_path, 1, clock, "ctl-a2")
    with second.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT id FROM scheduler_jobs ORDER BY id").scalars().all()
    assert stored == ["alerts", "horizon", "liveness", "prerender", "retention", "rollouts"]
    second.engine.dispose()


def test_a_stored_job_runs_on_the_live_controller_it_was_given(
    tmp_path: Path, clock: FakeClock
) -> None:
    """No registry: the job store names a placeholder; the runner runs the task on its ctx."""
    ctl = _controller(tmp_path, 1, clock, "ctl-live")
    _seed_nodes(ctl, 1)
    with ctl.sessions.begin() as session:
        node = session.get(Node, "loa-0")
        assert node is not None
        node.online = True
        node.status_changed_at = START - timedelta(minutes=5)
    runner = JobRunner(ctl, ctl.settings.model_copy(update={"horizon_interval_min": 600}))
    try:
        assert runner.tick() and runner.scheduler is not None
        assert runner.scheduler.get_job("liveness").func is stored_job  # type: ignore[union-attr]
        assert runner.run_now("liveness")

        def offline() -> bool:
            with ctl.sessions() as session:
                found = session.get(Node, "loa-0")
                return found is not None and found.online is False

        wait_until(offline, 10)
    finally:
        runner.stop()
        ctl.engine.dispose()
    with pytest.raises(RuntimeError, match="only through their JobRunner"):
        stored_job()


def test_liveness_and_retention(tmp_path: Path, clock: FakeClock) -> None:
    ctl = _controller(tmp_path, 1, clock, "ctl-a")
    _seed_nodes(ctl)
    with ctl.sessions.begin() as session:
        fresh, stale, never = (session.get(Node, f"loa-{i}") for i in range(3))
        for node in (fresh, stale, never):
            assert node is not None
            node.online = True
            node.status_changed_at = START - timedelta(minutes=5)
        fresh.last_heartbeat_at = START - timedelta(seconds=20)  # type: ignore[union-attr]
        stale.last_heartbeat_at = START - timedelta(seconds=61)  # type: ignore[union-attr]
        for days in (40, 31, 1):
            at = START - timedelta(days=days)
            session.add(Heartbeat(node_id="loa-0", sent_at=at, received_at=at, data={}))
    assert sorted(mark_silent_nodes_offline(ctl, 30)) == ["loa-1", "loa-2"]
    with ctl.sessions() as session:
        states = {n.id: (n.online, n.status_changed_at) for n in session.query(Node)}
    assert states["loa-0"][0] is True and states["loa-1"] == (False, START)
    assert mark_silent_nodes_offline(ctl, 30) == []  # idempotent
    assert prune_heartbeats(ctl, 30) == 2
    assert prune_heartbeats(ctl, 30) == 0
    ctl.engine.dispose()


@pytest.fixture
def linked(tmp_path: Path, mosquitto: MosquittoProcess, clock: FakeClock) -> Iterator[Controller]:
    ctl = _controller(tmp_path, mosquitto.port, clock, "ctl-linked")
    ctl.mqtt.start()
    assert ctl.mqtt.connected.wait(10)
    try:
        yield ctl
    finally:
        ctl.mqtt.stop()
        ctl.engine.dispose()


def test_horizon_publishes_only_changes_and_prerender_fills_speech(
    linked: Controller, clock: FakeClock
) -> None:
    _seed_nodes(linked)
    entry = ScheduleEntry.model_validate(
        {
            "id": "hop-thon",
            "kind": "tts",
            "title": "Họp thôn",
            "text": "Mời bà con họp thôn lúc mười chín giờ.",
            "targets": {"zones": ["vi-huong"]},
            "rule": {"freq": "daily", "start_date": "2026-11-01", "time": "11:30"},
        }
    )
    with linked.sessions.begin() as session:
        save_entry(session, entry, START)
    first = run_horizon(linked)
    assert (first.compiled, first.published) == (3, 3)
    assert first.bumped > 0  # speech not synthesised yet: "media not ready"
    again = run_horizon(linked)
    assert (again.published, again.unchanged) == (0, 3)  # nothing changed: no MQTT publish
    assert prerender_speech(linked, timedelta(hours=2)) == []  # 11:30 is 3.5 h away
    assert prerender_speech(linked, timedelta(hours=6)) == ["hop-thon"]
    with linked.sessions() as session:
        row = session.get(ScheduleEntryRow, "hop-thon")
        assert row is not None and row.spec["media"]["duration_s"] > 1
        counts = session.execute(text("SELECT item_count FROM published_playlists")).scalars().all()
    assert counts and all(count >= 2 for count in counts)  # today + tomorrow 11:30
    assert run_horizon(linked).published == 0
