"""Issue 14, hole 2: the JSON API applies role AND commune scope for panel-cookie callers.

Every test here is an attack an operator of xã Vi Hương (``other``) or a viewer could make
with their own panel session plus the page's CSRF token against xã Đồng Tiến's data; each
failed on the code before the fix.
"""

from __future__ import annotations

import base64

import pytest
from integration.controller.two_communes import Communes, schedule_body, slot_body
from sqlalchemy import select

from controller.db.models import Announcement, AuditEntry, Bulletin, Emergency, Node
from controller.services.schedule_store import ScheduleEntryRow

pytestmark = pytest.mark.integration


def _audit_rows(env: Communes, action: str, target: str) -> list[AuditEntry]:
    with env.ctl.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == action, AuditEntry.target == target)
        return list(session.scalars(query))


def test_other_commune_cannot_cancel_announcement(communes: Communes) -> None:
    ann = communes.announcement("a")
    r = communes.call("other", "DELETE", f"/api/v1/announcements/{ann}")
    assert r.status_code == 404, r.text
    listed = communes.call("operator", "GET", "/api/v1/announcements").json()
    assert any(a["id"] == ann and not a["cancelled"] for a in listed)
    assert communes.call("operator", "DELETE", f"/api/v1/announcements/{ann}").status_code == 204


def test_announcement_lists_are_filtered_to_the_callers_communes(communes: Communes) -> None:
    mine = communes.call("other", "GET", "/api/v1/announcements")
    assert mine.status_code == 200
    ids = {a["id"] for a in mine.json()}
    assert communes.ids["announcement_b"] in ids
    assert communes.ids["announcement_a"] not in ids and "dong-an" not in mine.text
    theirs = communes.call("viewer", "GET", "/api/v1/announcements").json()
    assert communes.ids["announcement_a"] in {a["id"] for a in theirs}
    assert communes.ids["announcement_b"] not in {a["id"] for a in theirs}


def test_province_wide_announcement_is_seen_but_not_cancelled_by_a_commune(
    communes: Communes,
) -> None:
    r = communes.call(
        "admin",
        "POST",
        "/api/v1/announcements",
        json={
            "text": "Toàn tỉnh dong-an.",
            "targets": ["tinh-bac-ninh"],
            "start": _later(communes),
        },
    )
    assert r.status_code == 201, r.text
    ann = r.json()["id"]
    assert ann in {a["id"] for a in communes.call("viewer", "GET", "/api/v1/announcements").json()}
    assert communes.call("operator", "DELETE", f"/api/v1/announcements/{ann}").status_code == 403
    assert communes.call("other", "DELETE", f"/api/v1/announcements/{ann}").status_code == 404


def test_other_commune_cannot_read_change_or_cancel_schedule_entries(communes: Communes) -> None:
    entry = communes.schedule("a")
    assert communes.call("other", "GET", f"/api/v1/schedules/{entry}").status_code == 404
    listed = communes.call("other", "GET", "/api/v1/schedules")
    assert listed.status_code == 200 and entry not in listed.text and "dong-an" not in listed.text
    # retarget A's entry to B's own village: the OLD targets are checked too
    body = schedule_body("b", entry)
    assert communes.call("other", "PUT", f"/api/v1/schedules/{entry}", json=body).status_code == 404
    assert communes.call("other", "DELETE", f"/api/v1/schedules/{entry}").status_code == 404
    with communes.ctl.sessions() as session:
        row = session.get(ScheduleEntryRow, entry)
        assert row is not None and row.cancelled_at is None
        assert row.spec["targets"]["zones"] == ["ban-dong-an"]


def test_operator_cannot_retarget_own_entry_to_another_commune(communes: Communes) -> None:
    entry = communes.schedule("a")
    body = schedule_body("a", entry, targets=["vi-huong-thon-1"])
    r = communes.call("operator", "PUT", f"/api/v1/schedules/{entry}", json=body)
    assert r.status_code == 403, r.text
    ok = schedule_body("a", entry, targets=["ban-cay-thi"])
    r = communes.call("operator", "PUT", f"/api/v1/schedules/{entry}", json=ok)
    assert r.status_code == 200, r.text
    assert r.json()["entry"]["targets"]["zones"] == ["ban-cay-thi"]


def test_other_commune_cannot_preview_or_read_emergencies_and_commands(communes: Communes) -> None:
    assert communes.call("other", "GET", "/api/v1/schedules/preview/dong-an-1").status_code == 404
    assert communes.call("viewer", "GET", "/api/v1/schedules/preview/dong-an-1").status_code == 200
    emergency = communes.ids["emergency_a"]
    assert communes.call("other", "GET", f"/api/v1/emergencies/{emergency}").status_code == 404
    listed = communes.call("other", "GET", "/api/v1/emergencies")
    assert listed.status_code == 200 and emergency not in listed.text
    assert communes.ids["emergency_b"] in listed.text
    r = communes.call("other", "POST", f"/api/v1/emergencies/{emergency}/cancel")
    assert r.status_code == 404
    command = communes.ids["command_a"]
    assert communes.call("other", "GET", f"/api/v1/commands/{command}").status_code == 404


def test_viewer_cannot_render_speech_through_the_schedule_check(communes: Communes) -> None:
    body = schedule_body("a") | {"kind": "tts", "text": "Kiểm tra dong-an viewer."}
    body.pop("duration_s")
    r = communes.call("viewer", "POST", "/api/v1/schedules/check", json=body)
    assert r.status_code == 403, r.text
    r = communes.call("other", "POST", "/api/v1/schedules/check", json=body)
    assert r.status_code == 403, r.text
    r = communes.call("operator", "POST", "/api/v1/schedules/check", json=body)
    assert r.status_code == 200, r.text


def test_only_admins_change_shared_programme_slots(communes: Communes) -> None:
    slot = communes.slot()
    for who in ("operator", "other"):
        body = slot_body(slot) | {"duration_s": 60}
        assert communes.call(who, "PUT", f"/api/v1/slots/{slot}", json=body).status_code == 403
        assert communes.call(who, "DELETE", f"/api/v1/slots/{slot}").status_code == 403
        new = slot_body(f"{slot}-{who}")
        assert communes.call(who, "POST", "/api/v1/slots", json=new).status_code == 403
    assert communes.call("admin", "DELETE", f"/api/v1/slots/{slot}").status_code == 204


def test_a_node_sharing_a_zone_id_does_not_fool_the_scope_check(communes: Communes) -> None:
    """B has a node whose id is also the id of a village of A: A's operator must not reach it."""
    with communes.ctl.sessions.begin() as session:
        # Inserted directly: the API now refuses to create such a node.
        session.add(
            Node(
                id="ban-goc-bong",
                name="vi-huong clash",
                zone_id="vi-huong-thon-2",
                created_at=communes.ctl.clock.now(),
            )
        )
    ann = {"text": "Họp dong-an.", "targets": ["ban-goc-bong"], "start": _later(communes)}
    r = communes.call("operator", "POST", "/api/v1/announcements", json=ann)
    assert r.status_code == 422 and "ambiguous" in r.text, r.text
    r = communes.call(
        "operator", "POST", "/api/v1/announcements", json=ann | {"targets": ["node:ban-goc-bong"]}
    )
    assert r.status_code == 403, r.text
    r = communes.call(
        "operator", "POST", "/api/v1/announcements", json=ann | {"targets": ["zone:ban-goc-bong"]}
    )
    assert r.status_code == 201, r.text
    assert r.json()["nodes"] == []  # the village of A has no node; B's node is not reached
    body = schedule_body("a", targets=["ban-goc-bong"])
    assert communes.call("operator", "POST", "/api/v1/schedules", json=body).status_code == 422
    body = schedule_body("a", targets=["zone:ban-goc-bong"])
    r = communes.call("operator", "POST", "/api/v1/schedules", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["entry"]["targets"] == {"zones": ["ban-goc-bong"], "nodes": []}
    # and no new node may take a zone's id
    clash = {"id": "ban-cay-voi", "name": "x", "zone_id": "vi-huong-thon-1"}
    assert communes.call("admin", "POST", "/api/v1/nodes", json=clash).status_code == 409


def test_api_changes_are_audited_with_the_acting_user(communes: Communes) -> None:
    ann = communes.announcement("a")
    assert communes.call("operator", "DELETE", f"/api/v1/announcements/{ann}").status_code == 204
    [row] = _audit_rows(communes, "announcement.cancel", f"announcement:{ann}")
    assert row.username == "operator" and row.ip
    created = _audit_rows(communes, "announcement.create", f"announcement:{ann}")
    assert [r.username for r in created] == ["admin"]
    entry = communes.schedule("a")
    assert communes.call("operator", "DELETE", f"/api/v1/schedules/{entry}").status_code == 204
    assert [r.username for r in _audit_rows(communes, "schedule.cancel", f"schedule:{entry}")] == [
        "operator"
    ]
    assert _audit_rows(communes, "schedule.create", f"schedule:{entry}")
    r = communes.call(
        "operator", "POST", "/api/v1/commands", json={"action": "stop", "node_id": "dong-an-1"}
    )
    assert r.status_code == 201
    [row] = _audit_rows(communes, "command.stop", "node:dong-an-1")
    assert row.username == "operator" and r.json()["id"] in row.detail
    node = communes.node()
    assert [r.username for r in _audit_rows(communes, "node.create", f"node:{node}")] == ["admin"]
    assert communes.call("token", "POST", f"/api/v1/nodes/{node}/revoke").status_code == 200
    assert [r.username for r in _audit_rows(communes, "node.revoke", f"node:{node}")] == ["api"]
    zone = {"id": "thon-moi-dong-an", "name": "Thôn mới", "parent_id": "xa-dong-tien"}
    assert communes.call("admin", "POST", "/api/v1/zones", json=zone).status_code == 201
    assert _audit_rows(communes, "zone.create", "zone:thon-moi-dong-an")


def test_audit_entry_names_the_api_token() -> None:
    """A per-user API token's id (filled in by the token resolver) is written to the entry."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from controller.auth import audit
    from controller.db.models import Base

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        now = datetime.now(UTC)
        audit.record(session, now=now, username="op", action="x", detail="d", token_id="tok-7")
        audit.record(session, now=now, username="op", action="y", detail="d")
        session.commit()
        details = [r.detail for r in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert details == ["token=tok-7 d", "d"]


def _later(env: Communes) -> str:
    from datetime import timedelta

    return (env.ctl.clock.now() + timedelta(hours=4)).isoformat()


# -- media by hash: nodes with their own credentials, users within their commune -----------


def _media_of(env: Communes) -> dict[str, str]:
    """File names of each commune's announcement, held announcement and emergency."""
    with env.ctl.sessions() as session:
        names = {}
        for key in ("announcement_a", "announcement_b", "held_a"):
            ann = session.get(Announcement, env.ids[key])
            assert ann is not None and ann.media is not None
            names[key] = f"{ann.media.sha256}.{ann.media.ext}"
        for key in ("emergency_a", "emergency_b"):
            emg = session.get(Emergency, env.ids[key])
            assert emg is not None
            names[key] = f"{emg.media_sha256}.mp3"
    return names


def _basic(username: str, password: str) -> dict[str, str]:
    return {
        "authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    }


def test_media_is_not_served_to_anonymous_callers(communes: Communes) -> None:
    for name in _media_of(communes).values():
        r = communes.call("anonymous", "GET", f"/media/{name}")
        assert r.status_code == 401, r.text


def test_users_hear_their_communes_media_only(communes: Communes) -> None:
    """Another commune's announcement, held item or emergency answers 404 like a missing
    file; the caller's own commune's (held ones included) plays, with a private cache."""
    names = _media_of(communes)
    for who, mine, theirs in (
        ("viewer", ("announcement_a", "held_a", "emergency_a"), ("announcement_b", "emergency_b")),
        ("other", ("announcement_b", "emergency_b"), ("announcement_a", "held_a", "emergency_a")),
    ):
        for key in mine:
            r = communes.call(who, "GET", f"/media/{names[key]}")
            assert r.status_code == 200 and r.content[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
            assert r.headers["cache-control"].startswith("private")
        for key in theirs:
            assert communes.call(who, "GET", f"/media/{names[key]}").status_code == 404, key
    for key in names:  # the province-wide admin hears everything
        assert communes.call("admin", "GET", f"/media/{names[key]}").status_code == 200


def test_a_bulletins_recording_is_heard_by_its_target_communes_only(communes: Communes) -> None:
    bulletin = communes.bulletin("b")
    with communes.ctl.sessions() as session:
        row = session.get(Bulletin, bulletin)
        assert row is not None and row.media_sha256
        name = f"{row.media_sha256}.mp3"
    assert communes.call("other", "GET", f"/media/{name}").status_code == 200
    assert communes.call("viewer", "GET", f"/media/{name}").status_code == 404


def test_a_node_fetches_media_with_its_own_credentials_until_revoked(
    communes: Communes,
) -> None:
    node = communes.node()
    r = communes.call("admin", "POST", f"/api/v1/nodes/{node}/enrolment-token")
    assert r.status_code == 200, r.text
    creds = communes.call(
        "anonymous", "POST", "/api/v1/enrol", json={"token": r.json()["enrol_token"]}
    )
    assert creds.status_code == 200, creds.text
    login = _basic(creds.json()["mqtt_username"], creds.json()["mqtt_password"])
    name = _media_of(communes)["announcement_a"]
    ranged = communes.call(
        "anonymous", "GET", f"/media/{name}", headers={**login, "range": "bytes=4-"}
    )
    assert ranged.status_code == 206  # resumable, as the agent's cache needs
    wrong = _basic(creds.json()["mqtt_username"], "not-the-password")
    assert communes.call("anonymous", "GET", f"/media/{name}", headers=wrong).status_code == 401
    assert (
        communes.call(
            "anonymous", "GET", f"/media/{name}", headers={"authorization": "Basic %%%"}
        ).status_code
        == 401
    )
    assert communes.call("admin", "POST", f"/api/v1/nodes/{node}/revoke").status_code == 200
    assert communes.call("anonymous", "GET", f"/media/{name}", headers=login).status_code == 401
