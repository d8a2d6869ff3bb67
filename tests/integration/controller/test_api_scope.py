"""The JSON API applies commune scope, not only roles: another commune's nodes are invisible."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from controller.app import create_app
from controller.auth.principal import Principal, Role
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.services.container import Controller

pytestmark = pytest.mark.integration

USERS = {
    "op-dong-tien": Principal("op", Role.OPERATOR, frozenset({"xa-dong-tien"})),
    "viewer-vi-huong": Principal("v", Role.VIEWER, frozenset({"xa-vi-huong"})),
}


def header_principal(request: Request, _ctl: Controller) -> Principal | None:
    return USERS.get(request.headers.get("x-test-user", ""))


@pytest.fixture
def client(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[TestClient]:
    settings = ControllerSettings(data_dir=tmp_path / "ctl", mqtt_port=mosquitto.port)
    app = create_app(settings)
    app.state.principal_resolvers.insert(0, header_principal)
    with TestClient(app) as c:
        for zone in (
            {"id": "xa-dong-tien", "name": "Xã Đồng Tiến"},
            {"id": "xa-vi-huong", "name": "Xã Vi Hương"},
        ):
            assert c.post("/api/v1/zones", json=zone).status_code == 201
        for node, zone in (("dong-an-1", "xa-dong-tien"), ("vi-huong-1", "xa-vi-huong")):
            body = {"id": node, "name": node, "zone_id": zone}
            assert c.post("/api/v1/nodes", json=body).status_code == 201
        yield c


def test_operator_sees_and_commands_only_own_commune(client: TestClient) -> None:
    op = {"x-test-user": "op-dong-tien"}
    assert [n["id"] for n in client.get("/api/v1/nodes", headers=op).json()] == ["dong-an-1"]
    assert client.get("/api/v1/nodes/vi-huong-1", headers=op).status_code == 404
    assert client.get("/api/v1/fleet", headers=op).json()["total"] == 1
    r = client.post(
        "/api/v1/commands", headers=op, json={"action": "stop", "zone_id": "xa-vi-huong"}
    )
    assert r.status_code == 403 and "outside the communes" in r.text
    r = client.post("/api/v1/commands", headers=op, json={"action": "stop", "node_id": "dong-an-1"})
    assert r.status_code == 201
    command_id = r.json()["id"]
    viewer = {"x-test-user": "viewer-vi-huong"}
    assert client.get(f"/api/v1/commands/{command_id}", headers=viewer).status_code == 404


def test_viewer_cannot_write_and_is_scoped(client: TestClient) -> None:
    viewer = {"x-test-user": "viewer-vi-huong"}
    assert [n["id"] for n in client.get("/api/v1/nodes", headers=viewer).json()] == ["vi-huong-1"]
    r = client.post(
        "/api/v1/commands", headers=viewer, json={"action": "stop", "node_id": "vi-huong-1"}
    )
    assert r.status_code == 403 and "operator" in r.text
    r = client.post("/api/v1/zones", headers=viewer, json={"id": "x", "name": "x"})
    assert r.status_code == 403


def test_announcement_and_schedule_targets_are_scoped(client: TestClient) -> None:
    op = {"x-test-user": "op-dong-tien"}
    r = client.post(
        "/api/v1/announcements", headers=op, json={"text": "Họp thôn", "targets": ["xa-vi-huong"]}
    )
    assert r.status_code == 403 and "outside the communes" in r.text
    r = client.post(
        "/api/v1/announcements", headers=op, json={"text": "Họp bản", "targets": ["dong-an-1"]}
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/announcements", headers=op, json={"text": "x", "targets": ["khong-co"]}
    )
    assert r.status_code == 422 and "khong-co" in r.text
