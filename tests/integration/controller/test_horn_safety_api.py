"""Horn safety through the JSON API: caps and quiet hours on zones and nodes, what the signed
playlists and commands then carry, and refusal of announcements scheduled into quiet hours
(real SQLite, Mosquitto, espeak-ng/ffmpeg)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api_client import api_client
from support.published import published_playlist

from controller.broker.process import MosquittoProcess
from controller.db.models import Command as CommandRow
from protocol.models import Command
from protocol.quiet_hours import LOCAL_TZ
from protocol.signing import Verifier

pytestmark = pytest.mark.integration


@pytest.fixture
def client(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[TestClient]:
    with api_client(tmp_path, mosquitto) as c:
        for body in (
            {"id": "xa-an-hoa", "name": "Xã An Hòa", "kind": "xã"},
            {"id": "thon-dong", "name": "Thôn Đông", "kind": "thôn", "parent_id": "xa-an-hoa"},
        ):
            assert c.post("/api/v1/zones", json=body).status_code == 201
        for node in ("dong-1", "dong-2"):
            body = {"id": node, "name": node, "zone_id": "thon-dong"}
            assert c.post("/api/v1/nodes", json=body).status_code == 201
        yield c


def _local(days: int, hh: int, mm: int) -> datetime:
    day = datetime.now(LOCAL_TZ).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=LOCAL_TZ).astimezone(UTC)


def test_caps_and_quiet_hours_reach_playlists_and_commands(client: TestClient) -> None:
    r = client.patch(
        "/api/v1/zones/xa-an-hoa", json={"volume_cap": 70, "quiet_hours": " 21:30-05:00 "}
    )
    assert r.status_code == 200, r.text
    assert r.json()["volume_cap"] == 70 and r.json()["quiet_hours"] == "21:30-05:00"
    assert client.patch("/api/v1/nodes/dong-1", json={"volume_cap": 50}).status_code == 200
    assert client.get("/api/v1/nodes/dong-1").json()["effective_volume_cap"] == 50
    assert client.get("/api/v1/nodes/dong-2").json()["effective_volume_cap"] == 70  # the commune's
    assert client.get("/api/v1/zones/xa-an-hoa").json()["quiet_hours"] == "21:30-05:00"

    morning = _local(1, 9, 0)
    r = client.post(
        "/api/v1/announcements",
        json={
            "text": "Kính mời bà con họp.",
            "targets": ["xa-an-hoa"],
            "start": morning.isoformat(),
            "volume": 95,
        },
    )
    assert r.status_code == 201, r.text
    one, two = published_playlist(client, "dong-1"), published_playlist(client, "dong-2")
    assert one.volume_cap == 50 and one.quiet_hours == ["21:30-05:00"]
    assert [i.volume for i in one.items] == [50] and [i.volume for i in two.items] == [70]

    # the quiet hours move onto the morning: the already scheduled item is no longer played
    r = client.patch("/api/v1/zones/thon-dong", json={"quiet_hours": "08:30-09:30"})
    assert r.status_code == 200
    again = published_playlist(client, "dong-2")
    assert again.items == [] and again.quiet_hours == ["08:30-09:30", "21:30-05:00"]

    r = client.post(
        "/api/v1/commands", json={"action": "volume", "node_id": "dong-1", "volume": 95}
    )
    assert r.status_code == 201, r.text
    ctl: Any = client.app.state.controller  # type: ignore[attr-defined]
    verifier = Verifier.from_b64(client.get("/api/v1/signing-keys").json()["keys"])
    with ctl.sessions() as session:
        row = session.get(CommandRow, r.json()["id"])
        assert row is not None
        assert verifier.verify(Command, row.payload.encode()).volume == 50  # capped, then signed


def test_announcements_into_quiet_hours_are_refused_and_nothing_is_stored(
    client: TestClient,
) -> None:
    assert (
        client.patch("/api/v1/zones/xa-an-hoa", json={"quiet_hours": "21:30-05:00"}).status_code
        == 200
    )
    night = _local(1, 22, 0)
    body = {"text": "Thông báo muộn.", "targets": ["thon-dong"], "start": night.isoformat()}
    r = client.post("/api/v1/announcements", json=body)
    assert r.status_code == 409, r.text
    assert "quiet hours 21:30-05:00" in r.json()["detail"] and "22:00" in r.json()["detail"]
    assert client.get("/api/v1/announcements").json() == []
    # a daily rule reaching into the night is refused too
    rule = {
        "freq": "daily",
        "start_date": str(_local(1, 0, 0).astimezone(LOCAL_TZ).date()),
        "time": "21:29:50",  # ~18 s of speech: reaches 21:30
    }
    r = client.post(
        "/api/v1/announcements",
        json={"text": "Tin tối " * 30, "targets": ["thon-dong"], "rule": rule},
    )
    assert r.status_code == 409, r.text
    # an emergency-level item is not refused
    ok = client.post("/api/v1/announcements", json={**body, "priority": 3})
    assert ok.status_code == 201, ok.text


BAD = [
    ("/api/v1/zones/xa-an-hoa", {"quiet_hours": "25:00-01:00"}, "HH:MM-HH:MM"),
    ("/api/v1/zones/xa-an-hoa", {"volume_cap": 101}, "less than or equal to 100"),
    ("/api/v1/zones/xa-an-hoa", {"loudness": 3}, "Extra inputs"),
    ("/api/v1/nodes/dong-1", {"quiet_hours": "21:30-05:00"}, "set on zones"),
]


def test_bad_safety_settings_get_422_with_a_reason(client: TestClient) -> None:
    for path, body, reason in BAD:
        r = client.patch(path, json=body)
        assert r.status_code == 422 and reason in r.text, r.text
    assert client.patch("/api/v1/zones/nowhere", json={"volume_cap": 5}).status_code == 404
    assert client.get("/api/v1/zones/xa-an-hoa").json()["volume_cap"] is None  # nothing stored
    live = client.get("/api/v1/live").json()  # no Icecast here: live says why it is off
    assert live["enabled"] is False and "Icecast is not configured" in live["reason"]
    refused = client.post("/api/v1/live", json={"zones": ["thon-dong"]})
    assert refused.status_code == 503 and "LOA_ICECAST_HOST" in refused.text
