"""The JSON API against a real SQLite file, real Mosquitto and real espeak-ng/ffmpeg."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support.api_client import api_client

from controller.app import create_app
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def client(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[TestClient]:
    with api_client(tmp_path, mosquitto) as c:
        yield c


def seed(client: TestClient) -> None:
    assert (
        client.post(
            "/api/v1/zones", json={"id": "xa-vi-huong", "name": "Xã Vi Hương", "kind": "xã"}
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/zones",
            json={
                "id": "thon-na-lang",
                "name": "Thôn Nà Làng",
                "kind": "thôn",
                "parent_id": "xa-vi-huong",
            },
        ).status_code
        == 201
    )
    r = client.post(
        "/api/v1/nodes",
        json={"id": "na-lang-1", "name": "Loa Nà Làng 1", "zone_id": "thon-na-lang"},
    )
    assert r.status_code == 201, r.text


def test_zone_node_announcement_and_media(client: TestClient) -> None:
    seed(client)
    nodes = client.get("/api/v1/nodes").json()
    assert [n["id"] for n in nodes] == ["na-lang-1"] and nodes[0]["online"] is False
    r = client.post(
        "/api/v1/announcements",
        json={"text": "Kính thưa bà con, UBND xã thông báo họp thôn.", "targets": ["xa-vi-huong"]},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["nodes"] == ["na-lang-1"]
    assert 1.0 < body["duration_s"] < 20
    media = client.get(body["media_url"].split("8080", 1)[-1])
    assert media.status_code == 200 and media.headers["content-type"] == "audio/mpeg"
    assert (
        media.content[:3] == b"ID3" or media.content[:2] == b"\xff\xf3" or len(media.content) > 1000
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"text": "  ", "targets": ["xa-vi-huong"]}, "text is empty"),
        ({"targets": ["xa-vi-huong"]}, "text is empty"),  # neither text nor a recording
        ({"targets": ["xa-vi-huong"], "media_sha256": "0" * 64}, "no such recording"),
        ({"text": "x", "targets": ["khong-co"]}, "unknown zone or node: khong-co"),
        ({"text": "x", "targets": []}, "at least 1"),
        ({"text": "x", "targets": ["xa-vi-huong"], "start": "2020-01-01T00:00:00Z"}, "past"),
        ({"text": "x", "targets": ["xa-vi-huong"], "start": "2030-01-01T00:00:00"}, "offset"),
        ({"text": "x", "targets": ["xa-vi-huong"], "colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_announcements_get_422_with_reason(client: TestClient, body: dict, reason: str) -> None:  # type: ignore[type-arg]
    seed(client)
    r = client.post("/api/v1/announcements", json=body)
    assert r.status_code == 422
    assert reason in r.text


def test_unknown_parent_and_duplicates(client: TestClient) -> None:
    seed(client)
    assert client.post("/api/v1/zones", json={"id": "xa-vi-huong", "name": "x"}).status_code == 409
    r = client.post("/api/v1/zones", json={"id": "z2", "name": "x", "parent_id": "nowhere"})
    assert r.status_code == 422 and "unknown parent" in r.text
    r = client.post("/api/v1/nodes", json={"id": "n2", "name": "x", "zone_id": "nowhere"})
    assert r.status_code == 422 and "unknown zone" in r.text
    assert client.get("/media/../../etc/passwd").status_code == 404
    assert client.get("/media/" + "0" * 64 + ".mp3").status_code == 404


def test_api_requires_auth_by_default(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    settings = ControllerSettings(
        data_dir=tmp_path / "closed",
        mqtt_port=mosquitto.port,
        api_anonymous_admin=False,
        api_token="a-long-random-token-for-the-test",  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings)) as c:
        assert c.get("/api/v1/nodes").status_code == 401
        r = c.post("/api/v1/zones", json={"id": "z", "name": "z"})
        assert r.status_code == 401
        ok = c.get(
            "/api/v1/nodes", headers={"Authorization": "Bearer a-long-random-token-for-the-test"}
        )
        assert ok.status_code == 200
    settings = ControllerSettings(
        data_dir=tmp_path / "closed2", mqtt_port=mosquitto.port, api_anonymous_admin=False
    )
    with TestClient(create_app(settings)) as c:
        assert c.get("/api/v1/nodes").status_code == 401
