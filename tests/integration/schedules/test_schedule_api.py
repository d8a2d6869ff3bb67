"""The calendar REST API on a real database, broker and espeak-ng: slots, entries, the
conflict check, recurring announcements and strict 422s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).astimezone().date().isoformat()


def _slot(client: TestClient) -> None:
    r = client.post(
        "/api/v1/slots",
        json={
            "id": "ban-tin-sang",
            "title": "Bản tin sáng",
            "rule": {"freq": "daily", "start_date": "2026-01-01", "time": "05:30"},
            "duration_s": 20,
            "gap_s": 1,
        },
    )
    assert r.status_code == 201, r.text


def _entry(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "tiem-phong",
        "kind": "tts",
        "title": "Tiêm phòng gia súc",
        "text": "Kính thưa bà con, sáng mai tiêm phòng cho gia súc tại nhà văn hóa.",
        "targets": ["vi-huong"],
        "slot": "ban-tin-sang",
    }
    body.update(fields)
    return body


def test_slot_entry_is_synthesised_compiled_and_previewed(client: TestClient) -> None:
    _slot(client)
    r = client.post("/api/v1/schedules", json=_entry())
    assert r.status_code == 201, r.text
    entry = r.json()["entry"]
    assert entry["media"]["duration_s"] > 1 and entry["slot"] == "ban-tin-sang"
    preview = client.get("/api/v1/schedules/preview/loa-1").json()
    ids = [i["id"] for i in preview["items"]]
    assert ids and all(i.startswith("tiem-phong@") for i in ids)
    # each item starts at 05:30 Vietnam time = 22:30 UTC
    assert all(i["start"].endswith("T22:30:00Z") for i in preview["items"])
    assert [s["id"] for s in client.get("/api/v1/schedules").json()] == ["tiem-phong"]
    assert client.delete("/api/v1/slots/ban-tin-sang").status_code == 409
    assert client.delete("/api/v1/schedules/tiem-phong").status_code == 204
    assert client.get("/api/v1/schedules/preview/loa-1").json()["items"] == []
    assert client.delete("/api/v1/slots/ban-tin-sang").status_code == 204


def test_check_reports_who_loses_where_and_why(client: TestClient) -> None:
    _slot(client)
    first = _entry(id="mot", targets=["vi-huong"])
    assert client.post("/api/v1/schedules", json=first).status_code == 201
    # a second, longer item that no longer fits into the 20 s slot
    second = _entry(
        id="hai",
        title="Thông báo dài",
        text="Thôn hai thông báo lịch cắt điện từ bảy giờ sáng đến mười một giờ trưa. " * 3,
        targets=["vi-huong-thon-2"],
    )
    r = client.post("/api/v1/schedules/check", json=second)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["nodes"] == ["loa-2"]
    assert body["conflicts"], body
    lost = body["conflicts"][0]
    assert lost["node_id"] == "loa-2" and lost["loser_entry"] == "hai"
    assert lost["reason"] == "bumped: slot full"
    assert client.get("/api/v1/schedules/hai").status_code == 404  # checking saved nothing


def test_relay_is_cut_around_an_announcement(client: TestClient) -> None:
    relay = {
        "id": "vov1",
        "kind": "stream",
        "title": "Tiếp sóng VOV1",
        "stream_url": "https://relay.example.vn/vov1.m3u8",
        "duration_s": 1800,
        "priority": "relay",
        "targets": ["vi-huong"],
        "rule": {"freq": "daily", "start_date": "2026-01-01", "time": "06:00"},
    }
    assert client.post("/api/v1/schedules", json=relay).status_code == 201
    notice = {
        "id": "hop-thon",
        "title": "Họp thôn",
        "text": "Mời bà con họp thôn.",
        "targets": ["vi-huong-thon-1"],
        "rule": {"freq": "daily", "start_date": "2026-01-01", "time": "06:10"},
    }
    r = client.post("/api/v1/schedules/check", json=notice)
    reasons = {(c["loser_entry"], c["winner_entry"], c["reason"]) for c in r.json()["conflicts"]}
    assert ("vov1", "hop-thon", "shortened: overlaps higher-priority item") in reasons


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"text": " "}, "text is empty"),
        ({"targets": ["khong-co"]}, "unknown zone or node: khong-co"),
        ({"slot": "khong-co"}, "unknown slot khong-co"),
        (
            {
                "slot": None,
                "rule": {
                    "freq": "rrule",
                    "start_date": "2026-01-01",
                    "time": "06:00",
                    "rrule": "FREQ=OFTEN",
                },
            },
            "rule",
        ),
        (
            {
                "slot": None,
                "rule": {
                    "freq": "daily",
                    "start_date": "2027-02-01",
                    "end_date": "2027-01-01",
                    "time": "06:00",
                },
            },
            "before start_date",
        ),
        (
            {"slot": None, "rule": {"freq": "once", "start_date": "2020-01-01", "time": "06:00"}},
            "in the past",
        ),
        (
            {"valid_from": "2027-01-02T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z"},
            "valid_until must be after",
        ),
        ({"priority": "loudest"}, "unknown priority"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_schedules_get_422_with_reason(
    client: TestClient, fields: dict[str, Any], reason: str
) -> None:
    _slot(client)
    r = client.post("/api/v1/schedules", json=_entry(**fields))
    assert r.status_code == 422, r.text
    assert reason in r.text


def test_recurring_announcement_and_now_queueing(client: TestClient) -> None:
    rule = {"freq": "weekly", "start_date": "2026-01-05", "weekdays": ["MO"], "time": "17:00"}
    r = client.post(
        "/api/v1/announcements",
        json={
            "text": "Thứ Hai vệ sinh môi trường.",
            "targets": ["vi-huong"],
            "rule": rule,
            "repeat": 2,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["rule"]["freq"] == "weekly" and r.json()["repeat"] == 2
    first = client.post(
        "/api/v1/announcements", json={"text": "Thông báo một.", "targets": ["vi-huong"]}
    )
    second = client.post(
        "/api/v1/announcements", json={"text": "Thông báo hai.", "targets": ["loa-1"]}
    )
    a, b = first.json(), second.json()
    end_a = datetime.fromisoformat(a["start"]) + timedelta(seconds=a["duration_s"])
    # queued behind the first (playlists keep whole milliseconds), not dropped
    assert datetime.fromisoformat(b["start"]) >= end_a - timedelta(milliseconds=1)
    items = client.get("/api/v1/schedules/preview/loa-1").json()["items"]
    assert {f"ann-{a['id']}", f"ann-{b['id']}"} <= {i["id"].split("@")[0] for i in items}
    assert client.delete(f"/api/v1/announcements/{a['id']}").status_code == 204
    items = client.get("/api/v1/schedules/preview/loa-1").json()["items"]
    assert f"ann-{a['id']}" not in {i["id"].split("@")[0] for i in items}
    bad = client.post(
        "/api/v1/announcements",
        json={
            "text": "x",
            "targets": ["vi-huong"],
            "rule": {"freq": "daily", "start_date": "2026-01-01"},
        },
    )
    assert bad.status_code == 422 and "time of day" in bad.text
