"""A controller upgrade does not silence the speakers: with the controller stopped, the agent
plays what is due from its cache; the new controller (same data dir) then receives every
playback record exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.processes import AgentProcess, ControllerProcess, wait_until

from controller.broker.process import MosquittoProcess

pytestmark = pytest.mark.integration


def test_agent_keeps_playing_while_the_controller_is_upgraded(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    data = tmp_path / "controller"
    old = ControllerProcess(data, mosquitto.port)
    old.start()
    agent: AgentProcess | None = None
    new: ControllerProcess | None = None
    try:
        with old.api() as api:
            assert api.post("/api/v1/zones", json={"id": "xa-a", "name": "Xã A"}).status_code == 201
            r = api.post("/api/v1/nodes", json={"id": "a-1", "name": "A 1", "zone_id": "xa-a"})
            assert r.status_code == 201, r.text
        agent = AgentProcess(
            tmp_path / "a-1", "a-1", mosquitto.port, old.url, old.signing_keys(), zones=["xa-a"]
        )
        agent.start()
        with old.api() as api:
            wait_until(lambda: api.get("/api/v1/nodes").json()[0]["online"], 20)
            due = datetime.now(UTC) + timedelta(seconds=15)
            r = api.post(
                "/api/v1/announcements",
                json={"text": "Kính thưa bà con, lịch tiêm chủng.", "targets": ["xa-a"],
                      "start": due.isoformat()},
            )  # fmt: skip
            assert r.status_code == 201, r.text
            ann_id, duration = r.json()["id"], r.json()["duration_s"]
            # the agent holds the playlist and the media before the controller goes away
            wait_until(
                lambda: (api.get("/api/v1/nodes").json()[0]["last_heartbeat"] or {}).get(
                    "cache_items"
                ),
                20,
            )
        old.stop()  # upgrade begins: the controller is down across the due time
        finished_at = due + timedelta(seconds=duration + 2)
        wait_until(lambda: datetime.now(UTC) > finished_at, 60)

        new = ControllerProcess(data, mosquitto.port)  # the "new release" on the same data
        new.port, new.url = old.port, old.url  # agents fetch media from the same address
        new.env["LOA_HTTP_PORT"] = str(old.port)
        new.start()

        def mine() -> list[dict]:  # type: ignore[type-arg]
            with new.api() as api:
                events = api.get("/api/v1/playback-events").json()
            found = [e for e in events if (e["item_id"] or "").startswith(f"ann-{ann_id}@")]
            return found if any(e["kind"] == "finished" for e in found) else []

        events = wait_until(mine, 30)
        assert [e["kind"] for e in events] == ["started", "finished"], events
        started = datetime.fromisoformat(events[0]["at"])
        assert abs((started - due).total_seconds()) < 2, "played on time, controller down"
        assert all(datetime.fromisoformat(e["received_at"]) > finished_at for e in events)
    finally:
        if agent is not None:
            agent.stop()
        if new is not None:
            new.stop()
        old.stop()
