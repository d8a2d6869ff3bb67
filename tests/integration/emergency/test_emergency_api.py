"""Emergency issue/cancel through the API with real processes: controller, broker, two agents."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from integration.emergency.zone_listener import ZoneCommandListener
from support.processes import AgentProcess, ControllerProcess, wait_until

from controller.broker.process import MosquittoProcess

pytestmark = pytest.mark.integration

ZONES = {"xa-dong-tien": None, "thon-dong-an": "xa-dong-tien"}
NODES = {"dong-an-1": ["xa-dong-tien", "thon-dong-an"], "cay-thi-1": ["xa-dong-tien"]}
NOTICE = "Khẩn cấp. Nước sông đang lên nhanh. Bà con thôn Đông An di dời ngay lên nhà văn hóa xã."


@pytest.fixture
def system(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[ControllerProcess]:
    ctl = ControllerProcess(tmp_path / "controller", mosquitto.port)
    ctl.start()
    agents: list[AgentProcess] = []
    try:
        with ctl.api() as api:
            for zone, parent in ZONES.items():
                r = api.post("/api/v1/zones", json={"id": zone, "name": zone, "parent_id": parent})
                assert r.status_code == 201, r.text
            for node, zones in NODES.items():
                body = {"id": node, "name": node, "zone_id": zones[-1]}
                assert api.post("/api/v1/nodes", json=body).status_code == 201
        keys = ctl.signing_keys()
        for node, zones in NODES.items():
            agent = AgentProcess(tmp_path / node, node, mosquitto.port, ctl.url, keys, zones=zones)
            agent.start()
            agents.append(agent)
        with ctl.api() as api:
            wait_until(lambda: all(n["online"] for n in api.get("/api/v1/nodes").json()), 20)
        yield ctl
    finally:
        for agent in agents:
            agent.stop()
        ctl.stop()


def states(api: httpx.Client, emergency_id: str) -> dict[str, dict[str, Any]]:
    body = api.get(f"/api/v1/emergencies/{emergency_id}").json()
    return {n["node_id"]: n for n in body["nodes"]}


def test_emergency_plays_everywhere_repeats_and_reports_per_node(
    system: ControllerProcess, listener: ZoneCommandListener
) -> None:
    with system.api() as api:
        r = api.post(
            "/api/v1/emergencies",
            json={"zones": ["thon-dong-an", "xa-dong-tien"], "text": NOTICE, "repeat": 2},
        )
        assert r.status_code == 201, r.text
        body = r.json()
        # thon-dong-an is inside xa-dong-tien: one command on the commune, nobody plays twice
        assert body["zones"] == ["xa-dong-tien"] and len(body["command_ids"]) == 1
        assert {n["node_id"] for n in body["nodes"]} == set(NODES)
        assert body["active"] is True
        eid = body["id"]

        wait_until(lambda: all(s["state"] == "playing" for s in states(api, eid).values()), 15)

        def both_finished_twice() -> bool:
            return all(
                s["state"] == "finished" and s["plays"] == 2 for s in states(api, eid).values()
            )

        wait_until(both_finished_twice, 60)
        assert [e["id"] for e in api.get("/api/v1/emergencies").json()] == [eid]
    assert listener.actions() == [("xa-dong-tien", "emergency")]


def test_cancel_stops_the_emergency_on_every_node(
    system: ControllerProcess, listener: ZoneCommandListener
) -> None:
    with system.api() as api:
        r = api.post(
            "/api/v1/emergencies", json={"zones": ["xa-dong-tien"], "text": NOTICE, "repeat": 50}
        )
        assert r.status_code == 201, r.text
        eid = r.json()["id"]
        wait_until(lambda: all(s["state"] == "playing" for s in states(api, eid).values()), 15)
        cancelled = api.post(f"/api/v1/emergencies/{eid}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["active"] is False

        def stopped() -> bool:
            return all(
                s["state"] == "finished" and "stopped by" in s["detail"]
                for s in states(api, eid).values()
            )

        wait_until(stopped, 15)
        again = api.post(f"/api/v1/emergencies/{eid}/cancel").json()
        assert again["cancelled_at"] == cancelled.json()["cancelled_at"]  # idempotent
        assert api.post("/api/v1/emergencies/nope/cancel").status_code == 404
    assert listener.actions() == [
        ("xa-dong-tien", "emergency"),
        ("xa-dong-tien", "cancel_emergency"),
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"zones": ["nowhere"], "text": "x"}, "unknown zone: nowhere"),
        ({"zones": ["xa-dong-tien"]}, "exactly one of text or media_sha256"),
        ({"zones": [], "text": "x"}, "at least 1"),
        ({"zones": ["xa-dong-tien"], "text": "x", "until": "2001-01-01T00:00:00+07:00"}, "past"),
        ({"zones": ["xa-dong-tien"], "text": "x", "every_min": 5}, "needs --repeat"),
        ({"zones": ["xa-dong-tien"], "media_sha256": "0" * 64}, "no uploaded media"),
        ({"zones": ["xa-dong-tien"], "text": "x", "until": "2030-01-01T00:00:00"}, "UTC offset"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    tmp_path: Path, mosquitto: MosquittoProcess, body: dict[str, Any], reason: str
) -> None:
    from fastapi.testclient import TestClient

    from controller.app import create_app
    from controller.config import ControllerSettings

    settings = ControllerSettings(
        data_dir=tmp_path / "ctl",
        tts_engine_order=["espeak-ng"],
        mqtt_port=mosquitto.port,
        mqtt_client_id="ctl-emg-bad",
    )
    with TestClient(create_app(settings)) as c:
        assert c.post("/api/v1/zones", json={"id": "xa-dong-tien", "name": "x"}).status_code == 201
        r = c.post("/api/v1/emergencies", json=body)
        assert r.status_code == 422 and reason in r.text, r.text
        assert c.get("/api/v1/emergencies").json() == []


def loa(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "emergency", "--url", url, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_issues_and_cancels(system: ControllerProcess, listener: ZoneCommandListener) -> None:
    issued = loa("--zone", "thon-dong-an", "--text", NOTICE, "--repeat", "20", url=system.url)
    assert issued.returncode == 0, issued.stderr
    eid = json.loads(issued.stdout)["id"]
    with system.api() as api:
        wait_until(lambda: states(api, eid)["dong-an-1"]["state"] == "playing", 15)
        assert "cay-thi-1" not in states(api, eid)  # outside the village
    cancelled = loa("--cancel", eid, url=system.url)
    assert cancelled.returncode == 0 and json.loads(cancelled.stdout)["active"] is False
    refused = loa("--zone", "nowhere", "--text", "x", url=system.url)
    assert refused.returncode == 2 and "unknown zone: nowhere" in refused.stderr
    local = loa(
        "--zone", "thon-dong-an", "--text", "x", "--until", "2030-01-01T08:00", url=system.url
    )
    assert local.returncode == 2 and "UTC offset" in local.stderr
    assert listener.actions() == [
        ("thon-dong-an", "emergency"),
        ("thon-dong-an", "cancel_emergency"),
    ]
