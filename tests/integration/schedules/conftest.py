"""A controller app on a real SQLite file and a real Mosquitto, with the Vi Hương zones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.app import create_app
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings


def settings_for(
    tmp_path: Path, mqtt_port: int, client_id: str = "ctl-sched"
) -> ControllerSettings:
    return ControllerSettings(
        data_dir=tmp_path / "ctl",
        tts_engine_order=["espeak-ng"],
        mqtt_port=mqtt_port,
        mqtt_client_id=client_id,
    )


def seed_zones(client: TestClient) -> None:
    zones = [("vi-huong", "Xã Vi Hương", None)] + [
        (f"vi-huong-thon-{i}", f"Thôn {i}", "vi-huong") for i in (1, 2)
    ]
    for zone_id, name, parent in zones:
        r = client.post("/api/v1/zones", json={"id": zone_id, "name": name, "parent_id": parent})
        assert r.status_code == 201, r.text
    for i in (1, 2):
        r = client.post(
            "/api/v1/nodes",
            json={"id": f"loa-{i}", "name": f"Loa {i}", "zone_id": f"vi-huong-thon-{i}"},
        )
        assert r.status_code == 201, r.text


@pytest.fixture
def client(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(tmp_path, mosquitto.port))) as c:
        seed_zones(c)
        yield c
