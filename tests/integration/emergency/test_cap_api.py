"""Upstream alerts over the API, with a real broker: what is broadcast, once, and what is not."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from integration.emergency.zone_listener import ZoneCommandListener

from controller.app import create_app
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.db.models import Emergency, UpstreamAlert
from protocol.clock import FakeClock

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).parents[2] / "unit" / "emergency" / "cap_examples"
# ten minutes after the thunderstorm warning was sent, fifty before it expires
DURING_STORM = datetime(2003, 6, 17, 22, 7, tzinfo=UTC)


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DURING_STORM)


@pytest.fixture
def client(tmp_path: Path, mosquitto: MosquittoProcess, clock: FakeClock) -> Iterator[TestClient]:
    settings = ControllerSettings(
        data_dir=tmp_path / "ctl",
        tts_engine_order=["espeak-ng"],
        mqtt_port=mosquitto.port,
        mqtt_client_id="ctl-cap-test",
    )
    with TestClient(create_app(settings, clock)) as c:
        for zone, parent in [("xa-a", None), ("thon-b", "xa-a"), ("xa-c", None)]:
            body = {"id": zone, "name": zone, "parent_id": parent}
            assert c.post("/api/v1/zones", json=body).status_code == 201
        for node, zone, lat, lon in [
            ("b-1", "thon-b", 38.48, -119.9),
            ("c-1", "xa-c", 32.9525, -115.5527),
        ]:
            node_body = {"id": node, "name": node, "zone_id": zone, "lat": lat, "lon": lon}
            assert c.post("/api/v1/nodes", json=node_body).status_code == 201
        for code, zone in [("006109", "xa-a"), ("006037", "xa-c")]:
            body = {"zone_id": zone, "value_name": "SAME", "value": code}
            assert c.post("/api/v1/upstream-alerts/geocodes", json=body).status_code == 201
        yield c


def post_cap(client: TestClient, data: bytes) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = client.post(
        "/api/v1/upstream-alerts/cap", content=data, headers={"content-type": "application/cap+xml"}
    )
    return r.status_code, r.json()


def settle(listener: ZoneCommandListener, count: int) -> list[tuple[str, str]]:
    deadline = time.monotonic() + 5
    while len(listener.actions()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # anything extra would arrive now
    return listener.actions()


def stored(client: TestClient, model: type) -> list:  # type: ignore[type-arg]
    ctl = client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as s:
        return list(s.query(model))


def test_storm_warning_is_one_emergency_and_a_resend_broadcasts_nothing(
    client: TestClient, listener: ZoneCommandListener
) -> None:
    status, body = post_cap(client, example("a2_severe_thunderstorm.xml"))
    assert status == 200, body
    assert body["outcome"] == "emergency" and not body["duplicate"]
    assert body["zones"] == ["thon-b", "xa-a"]  # geocode 006109 and the node inside the polygon
    # thon-b lies under xa-a: one command on xa-a reaches it, so it plays once
    assert settle(listener, 1) == [("xa-a", "emergency")]
    command = listener.received[0][1]
    assert command["item"]["priority"] == 3 and command["item"]["kind"] == "tts"
    assert command["until"].startswith("2003-06-17T23:00:00")
    assert command["repeat_every_s"] == 300

    status, again = post_cap(client, example("a2_severe_thunderstorm.xml"))
    assert status == 200 and again["duplicate"] and again["emergency_id"] == body["emergency_id"]
    assert settle(listener, 2) == [("xa-a", "emergency")]
    assert len(stored(client, Emergency)) == 1

    cancel = (
        example("a2_severe_thunderstorm.xml")
        .replace(
            b"<identifier>KSTO1055887203</identifier>", b"<identifier>KSTO1055887203-C</identifier>"
        )
        .replace(
            b"<msgType>Alert</msgType>",
            b"<msgType>Cancel</msgType>\n  <scope>Public</scope>\n  <references>"
            b"KSTO@NWS.NOAA.GOV,KSTO1055887203,2003-06-17T14:57:00-07:00</references>",
        )
        .replace(b"<scope>Public</scope>\n  <info>", b"<info>", 1)
    )
    status, cancelled = post_cap(client, cancel)
    assert status == 200, cancelled
    assert cancelled["outcome"] == "cancelled" and body["emergency_id"] in cancelled["reason"]
    assert settle(listener, 2) == [("xa-a", "emergency"), ("xa-a", "cancel_emergency")]
    detail = client.get(f"/api/v1/emergencies/{body['emergency_id']}").json()
    assert detail["active"] is False and detail["cancelled_by"].startswith("cap:")


def test_update_replaces_the_referenced_alert(
    client: TestClient, listener: ZoneCommandListener
) -> None:
    status, first = post_cap(client, example("a4_amber_alert.xml"))
    assert status == 200 and first["outcome"] == "emergency" and first["zones"] == ["xa-c"]
    update = (
        example("a4_amber_alert.xml")
        .replace(b"<identifier>KAR0-0306112239-SW</identifier>", b"<identifier>KAR0-2</identifier>")
        .replace(b"<msgType>Alert</msgType>", b"<msgType>Update</msgType>")
        .replace(
            b"<scope>Public</scope>",
            b"<scope>Public</scope>\n  <references>"
            b"KARO@CLETS.DOJ.CA.GOV,KAR0-0306112239-SW,2003-06-11T22:39:00-07:00</references>",
        )
    )
    status, second = post_cap(client, update)
    assert status == 200 and second["outcome"] == "emergency"
    assert second["emergency_id"] != first["emergency_id"]
    assert settle(listener, 3) == [
        ("xa-c", "emergency"),
        ("xa-c", "cancel_emergency"),
        ("xa-c", "emergency"),
    ]


def test_minor_earthquake_is_an_announcement_not_an_emergency(
    client: TestClient, listener: ZoneCommandListener
) -> None:
    status, body = post_cap(client, example("a3_earthquake_update.xml"))
    assert status == 200, body
    assert body["outcome"] == "announcement" and body["zones"] == ["xa-c"]
    ann = client.get("/api/v1/announcements").json()[0]
    assert ann["id"] == body["announcement_id"] and ann["priority"] == 2
    assert settle(listener, 0) == []


def test_alerts_that_must_not_be_broadcast_are_recorded_with_the_reason(
    client: TestClient, listener: ZoneCommandListener, clock: FakeClock
) -> None:
    exercise = example("a2_severe_thunderstorm.xml").replace(b"Actual", b"Exercise")
    assert post_cap(client, exercise)[1]["reason"] == "status Exercise: not broadcast"
    english = example("a4_amber_alert.xml").replace(b"<language>vi-VN</language>", b"")
    english = english.replace(b"KAR0-0306112239-SW", b"KAR0-en")
    assert "Vietnamese" in post_cap(client, english)[1]["reason"]
    nowhere = example("a1_homeland_security.xml")
    assert "no area maps to a zone" in post_cap(client, nowhere)[1]["reason"]
    clock.advance(3600)  # the storm warning expired at 23:00 UTC
    late = example("a2_severe_thunderstorm.xml").replace(b"KSTO1055887203", b"KSTO-late")
    assert post_cap(client, late)[1]["reason"].startswith("expired at 2003-06-17T23:00")
    assert settle(listener, 0) == []
    assert {a.outcome for a in stored(client, UpstreamAlert)} == {"ignored"}


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (b"<alert>", 422, "malformed XML"),
        (BILLION_LAUGHS, 422, "DTDForbidden"),
        (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'/>", 422, "not valid CAP 1.2"),
        (b"<a>" + b"x" * 600_000 + b"</a>", 413, "larger than"),
    ],
)
def test_bad_xml_is_refused_and_nothing_is_broadcast(
    client: TestClient, listener: ZoneCommandListener, data: bytes, status: int, reason: str
) -> None:
    got, body = post_cap(client, data)
    assert got == status and reason in body["detail"]
    assert settle(listener, 0) == []
    assert stored(client, UpstreamAlert) == [] and stored(client, Emergency) == []


def test_json_form_is_accepted_and_validated(
    client: TestClient, listener: ZoneCommandListener
) -> None:
    alert = {
        "identifier": "KTTV-LU-1",
        "sender": "kttv@example.vn",
        "sent": "2003-06-18T04:55:00+07:00",
        "info": [
            {
                "event": "Lũ quét",
                "urgency": "Immediate",
                "severity": "Extreme",
                "certainty": "Likely",
                "headline": "Cảnh báo lũ quét",
                "instruction": "Bà con di dời ngay lên chỗ cao.",
                "areas": [
                    {"description": "Xã C", "geocodes": [{"value_name": "SAME", "value": "006037"}]}
                ],
            }
        ],
    }
    r = client.post("/api/v1/upstream-alerts/json", json=alert)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "emergency" and r.json()["zones"] == ["xa-c"]
    assert settle(listener, 1) == [("xa-c", "emergency")]
    bad = client.post(
        "/api/v1/upstream-alerts/json", json={**alert, "identifier": "x2", "status": "Real"}
    )
    assert bad.status_code == 422 and "status" in bad.json()["detail"]


def test_alerts_need_admin_or_the_upstream_token(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    settings = ControllerSettings(
        data_dir=tmp_path / "ctl2",
        tts_engine_order=["espeak-ng"],
        mqtt_port=mosquitto.port,
        mqtt_client_id="ctl-cap-auth",
        api_token="admin-secret-for-the-cap-test-0123456789",  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings)) as c:
        data = example("a2_severe_thunderstorm.xml")
        assert c.post("/api/v1/upstream-alerts/cap", content=data).status_code == 401
        wrong = {"authorization": "Bearer nope"}
        assert c.post("/api/v1/upstream-alerts/cap", content=data, headers=wrong).status_code == 401
        admin = {"authorization": "Bearer admin-secret-for-the-cap-test-0123456789"}
        r = c.post("/api/v1/upstream-alerts/cap", content=data, headers=admin)
        assert r.status_code == 200 and r.json()["reason"].startswith("expired")  # real clock
