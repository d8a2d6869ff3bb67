"""Restart between scheduling and the due time: the item is still played, and its events
are stored exactly once (real controller, agent and Mosquitto processes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.processes import AgentProcess, ControllerProcess, wait_until

from controller.broker.process import MosquittoProcess

pytestmark = pytest.mark.integration


def test_item_scheduled_before_a_restart_is_delivered(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    ctl = ControllerProcess(tmp_path / "controller", mosquitto.port)
    ctl.start()
    agent: AgentProcess | None = None
    try:
        with ctl.api() as api:
            assert (
                api.post(
                    "/api/v1/zones", json={"id": "vi-huong", "name": "Xã Vi Hương"}
                ).status_code
                == 201
            )
            r = api.post(
                "/api/v1/nodes", json={"id": "loa-1", "name": "Loa 1", "zone_id": "vi-huong"}
            )
            assert r.status_code == 201, r.text
        agent = AgentProcess(
            tmp_path / "loa-1",
            "loa-1",
            mosquitto.port,
            ctl.url,
            ctl.signing_keys(),
            zones=["vi-huong"],
        )  # default media backoff: a fetch that fails while the controller is down is
        # retried before the item is due (agent.fetch_deadline), not minutes later
        agent.start()
        with ctl.api() as api:
            wait_until(lambda: api.get("/api/v1/nodes").json()[0]["online"], 20)
            # room for a render, a stop and a cold start on a loaded 2-core CI machine
            due = datetime.now(UTC) + timedelta(seconds=40)
            r = api.post(
                "/api/v1/announcements",
                json={
                    "text": "Kính thưa bà con, mời đi họp.",
                    "targets": ["vi-huong"],
                    "start": due.isoformat(),
                },
            )
            assert r.status_code == 201, r.text
            ann_id, duration = r.json()["id"], r.json()["duration_s"]
        ctl.stop()  # controller down before the due time
        ctl.start()
        assert datetime.now(UTC) < due, "restart took too long for this test to mean anything"

        def finished() -> list[dict]:  # type: ignore[type-arg]
            with ctl.api() as api:
                events = api.get("/api/v1/playback-events").json()
            return events if any(e["kind"] == "finished" for e in events) else []

        events = wait_until(finished, 60 + duration)  # a readiness wait: returns when done
        mine = [e for e in events if (e["item_id"] or "").startswith(f"ann-{ann_id}@")]
        assert [e["kind"] for e in mine] == ["started", "finished"], events
        assert len({e["seq"] for e in events}) == len(events)  # each stored once
    finally:
        if agent is not None:
            agent.stop()
        ctl.stop()
