"""Issue 18 through the JSON API: bulletins from the province, the commune inbox (schedule,
decline, priority placement), approval before air and the review of emergencies, with the
commune scope (commune B's operator ``other`` never sees or acts on commune A's inbox)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from integration.controller.two_communes import Communes

from controller.db.models import Announcement, PlaybackEvent
from controller.services.playlist_builder import build_playlists
from controller.services.zones import ZoneTree, nodes_reached
from schedules.local_time import to_local_naive

pytestmark = pytest.mark.integration
V = "/api/v1"


def _send(env: Communes, level: str, text: str, who: str = "province") -> dict[str, Any]:
    body = {"level": level, "communes": ["xa-dong-tien"], "text": text}
    r = env.call(who, "POST", f"{V}/bulletins", json=body)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def _later(env: Communes, hours: float = 3) -> str:
    return (env.ctl.clock.now() + timedelta(hours=hours)).isoformat()


def _playlist(env: Communes, since: datetime | None = None) -> list[tuple[str, str]]:
    """(entry id, title) of dong-an-1's compiled playlist from ``since`` (default: now)."""
    now = env.ctl.clock.now()
    start = since or now
    with env.ctl.sessions() as session:
        result = build_playlists(session, now, start, now + timedelta(hours=48), ["dong-an-1"])
    return [(item.id.split("@")[0], item.title) for item in result["dong-an-1"].items]


def _playlist_titles(env: Communes, since: datetime | None = None) -> list[str]:
    return [title for _, title in _playlist(env, since)]


def _on_air(env: Communes, announcement_id: int) -> bool:
    return f"ann-{announcement_id}" in {entry for entry, _ in _playlist(env)}


def test_a_commune_operator_cannot_send_upstream_bulletins(communes: Communes) -> None:
    body = {"level": "normal", "communes": ["xa-dong-tien"], "text": "Tự gửi."}
    r = communes.call("operator", "POST", f"{V}/bulletins", json=body)
    assert r.status_code == 403 and "above" in r.text
    r = communes.call(
        "province", "POST", f"{V}/bulletins", json={**body, "communes": ["ban-dong-an"]}
    )
    assert r.status_code == 422 and "not a commune" in r.text
    # the province of commune A is not above commune B
    r = communes.call(
        "province", "POST", f"{V}/bulletins", json={**body, "communes": ["xa-vi-huong"]}
    )
    assert r.status_code == 403


def test_normal_bulletin_is_scheduled_by_its_commune_only(communes: Communes) -> None:
    sent = _send(communes, "normal", "Bản tin thường dong-an: tiêm phòng.")
    bid = sent["id"]
    assert [(d["zone_id"], d["state"]) for d in sent["deliveries"]] == [
        ("xa-dong-tien", "received")
    ]
    inbox = communes.call("operator", "GET", f"{V}/inbox").json()
    assert any(i["bulletin_id"] == bid and i["level"] == "normal" for i in inbox)
    assert all(i["bulletin_id"] != bid for i in communes.call("other", "GET", f"{V}/inbox").json())
    # commune B cannot act on A's inbox (as if it did not exist); a viewer cannot act at all
    path = f"{V}/inbox/{bid}/xa-dong-tien/schedule"
    assert communes.call("other", "POST", path, json={"start": _later(communes)}).status_code == 404
    assert communes.call("other", "GET", f"{V}/bulletins/{bid}").status_code == 404
    assert (
        communes.call("viewer", "POST", path, json={"start": _later(communes)}).status_code == 403
    )
    assert communes.call("operator", "POST", path, json={}).status_code == 422
    start = _later(communes, 4)
    r = communes.call("operator", "POST", path, json={"start": start})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "scheduled" and r.json()["acted_by"] == "operator"
    with communes.ctl.sessions() as session:
        ann = session.get_one(Announcement, r.json()["announcement_id"])
        assert (ann.origin, ann.bulletin_id, ann.level, ann.approval) == (
            "upstream",
            bid,
            "normal",
            "not_required",
        )
    assert "Bản tin thường dong-an: tiêm phòng." in _playlist_titles(communes)
    # the sender sees when it is scheduled; a second answer is refused
    seen = communes.call("province", "GET", f"{V}/bulletins/{bid}").json()["deliveries"][0]
    assert seen["state"] == "scheduled" and seen["scheduled_for"] is not None
    assert seen["speakers"] == 3 and seen["aired_on"] == 0
    # two of the commune's three speakers report it finished (one twice), the third only
    # started it, and a speaker elsewhere finished an item of the same announcement id prefix
    ann_id = r.json()["announcement_id"]
    with communes.ctl.sessions.begin() as session:
        speakers = sorted(nodes_reached(session, ZoneTree.load(session), ["xa-dong-tien"], []))
        at = communes.ctl.clock.now()
        plays = [(speakers[0], "finished"), (speakers[0], "finished"), (speakers[1], "started")]
        plays += [(speakers[1], "finished"), (speakers[2], "started"), ("loa-khac", "finished")]
        for seq, (node, kind) in enumerate(plays, start=9000):
            session.add(
                PlaybackEvent(
                    node_id=node,
                    seq=seq,
                    kind=kind,
                    at=at,
                    received_at=at,
                    item_id=f"ann-{ann_id}@x#0",
                )
            )
    seen = communes.call("province", "GET", f"{V}/bulletins/{bid}").json()["deliveries"][0]
    assert (seen["aired_on"], seen["speakers"]) == (2, 3)
    decline = f"{V}/inbox/{bid}/xa-dong-tien/decline"
    assert communes.call("operator", "POST", decline, json={"reason": "x"}).status_code == 422


def test_a_declined_bulletin_shows_the_reason_to_the_sender(communes: Communes) -> None:
    bid = _send(communes, "normal", "Bản tin dong-an bị từ chối.")["id"]
    path = f"{V}/inbox/{bid}/xa-dong-tien/decline"
    assert communes.call("operator", "POST", path, json={"reason": ""}).status_code == 422
    r = communes.call("operator", "POST", path, json={"reason": "Xã đã thông báo hôm qua"})
    assert r.status_code == 200 and r.json()["state"] == "declined", r.text
    sent = communes.call("province", "GET", f"{V}/bulletins").json()
    mine = next(b for b in sent if b["id"] == bid)["deliveries"][0]
    assert (mine["state"], mine["decline_reason"]) == ("declined", "Xã đã thông báo hôm qua")
    assert "Bản tin dong-an bị từ chối." not in _playlist_titles(communes)


@pytest.fixture
def next_slot(communes: Communes) -> Iterator[tuple[str, str]]:
    """A daily programme slot whose next run is 20 minutes from now (removed afterwards)."""
    run = communes.ctl.clock.now().replace(second=0, microsecond=0) + timedelta(minutes=20)
    local = to_local_naive(run)
    body = {
        "id": "ban-tin-gan",
        "title": "Bản tin gần",
        "rule": {
            "freq": "daily",
            "time": local.strftime("%H:%M"),
            "start_date": (local.date() - timedelta(days=1)).isoformat(),
        },
        "duration_s": 1800,
    }
    assert communes.call("admin", "POST", f"{V}/slots", json=body).status_code == 201
    try:
        yield "ban-tin-gan", run.isoformat().replace("+00:00", "Z")
    finally:
        assert communes.call("admin", "DELETE", f"{V}/slots/ban-tin-gan").status_code == 204


def _iso(value: str) -> str:
    return value.replace("+00:00", "Z")


def test_priority_bulletins_head_the_next_slot_and_cannot_be_declined(
    communes: Communes, next_slot: tuple[str, str]
) -> None:
    slot_id, run = next_slot
    own = _send(communes, "normal", "Tin thường dong-an trong bản tin.")["id"]
    r = communes.call(
        "operator", "POST", f"{V}/inbox/{own}/xa-dong-tien/schedule", json={"slot_id": slot_id}
    )
    assert r.status_code == 200 and _iso(r.json()["scheduled_for"]) == run, r.text
    first = _send(communes, "priority", "Ưu tiên một dong-an.")
    second = _send(communes, "priority", "Ưu tiên hai dong-an.")
    for sent in (first, second):
        delivery = sent["deliveries"][0]
        assert (delivery["state"], delivery["slot_id"]) == ("scheduled", slot_id), sent
        assert _iso(delivery["scheduled_for"]) == run
    titles = _playlist_titles(communes)
    order = [
        t
        for t in titles
        if t
        in ("Ưu tiên một dong-an.", "Ưu tiên hai dong-an.", "Tin thường dong-an trong bản tin.")
    ]
    assert order == [
        "Ưu tiên một dong-an.",
        "Ưu tiên hai dong-an.",
        "Tin thường dong-an trong bản tin.",
    ]
    path = f"{V}/inbox/{first['id']}/xa-dong-tien/decline"
    r = communes.call("operator", "POST", path, json={"reason": "không"})
    assert r.status_code == 422, r.text
    # operators reorder only among the priority items
    ids = [s["deliveries"][0]["announcement_id"] for s in (first, second)]
    inbox = communes.call("operator", "GET", f"{V}/inbox").json()
    normal_id = next(i["announcement_id"] for i in inbox if i["bulletin_id"] == own)
    body = {"zone_id": "xa-dong-tien", "slot_id": slot_id, "start": run}
    bad = communes.call(
        "operator",
        "POST",
        f"{V}/inbox/slot-order",
        json={**body, "announcement_ids": [normal_id, *ids]},
    )
    assert bad.status_code == 422 and "only priority items" in bad.text
    ok = communes.call(
        "operator", "POST", f"{V}/inbox/slot-order", json={**body, "announcement_ids": ids[::-1]}
    )
    assert ok.status_code == 204, ok.text
    titles = _playlist_titles(communes)
    order = [t for t in titles if t.startswith("Ưu tiên")]
    assert order == ["Ưu tiên hai dong-an.", "Ưu tiên một dong-an."]
    for ann_id in (*ids, normal_id):  # leave the slot empty for the other tests
        assert communes.call("admin", "DELETE", f"{V}/announcements/{ann_id}").status_code == 204


def test_priority_without_a_slot_in_the_window_airs_at_once(communes: Communes) -> None:
    before = communes.ctl.clock.now()
    sent = _send(communes, "priority", "Ưu tiên ngay dong-an.")
    delivery = sent["deliveries"][0]
    assert delivery["state"] == "scheduled" and delivery["slot_id"] is None
    when = datetime.fromisoformat(delivery["scheduled_for"])
    assert before <= when <= communes.ctl.clock.now() + timedelta(seconds=10)
    # (from ``before``: on a loaded machine the short item may already have played)
    assert "Ưu tiên ngay dong-an." in _playlist_titles(communes, before)


def test_emergency_bulletins_take_the_emergency_path_and_cannot_be_declined(
    communes: Communes,
) -> None:
    sent = _send(communes, "emergency", "Khẩn cấp lũ dong-an.")
    assert sent["deliveries"][0]["state"] == "scheduled"
    emergencies = communes.call("operator", "GET", f"{V}/emergencies").json()
    assert any(e["title"] == "Khẩn cấp lũ dong-an." for e in emergencies), emergencies
    path = f"{V}/inbox/{sent['id']}/xa-dong-tien/decline"
    assert communes.call("operator", "POST", path, json={"reason": "không"}).status_code == 422


@pytest.fixture
def approval_on(communes: Communes) -> Iterator[None]:
    on, off = {"needs_approval": True}, {"needs_approval": False}
    assert communes.call("operator", "PATCH", f"{V}/zones/xa-dong-tien", json=on).status_code == 403
    assert communes.call("admin", "PATCH", f"{V}/zones/xa-dong-tien", json=on).status_code == 200
    try:
        yield
    finally:
        communes.call("admin", "PATCH", f"{V}/zones/xa-dong-tien", json=off)


def test_draft_reject_edit_approve_and_edit_again(communes: Communes, approval_on: None) -> None:
    body = {
        "text": "Họp dân dong-an tối nay.",
        "targets": ["ban-dong-an"],
        "start": _later(communes),
        "draft": True,
    }
    r = communes.call("operator", "POST", f"{V}/announcements", json=body)
    assert r.status_code == 201 and r.json()["approval"] == "draft", r.text
    ann = r.json()["id"]
    assert not _on_air(communes, ann)
    assert (
        communes.call("approver", "POST", f"{V}/approvals/{ann}/approve", json={}).status_code
        == 409
    )
    assert (
        communes.call("operator", "POST", f"{V}/announcements/{ann}/submit").json()["approval"]
        == "pending"
    )
    queue = communes.call("approver", "GET", f"{V}/approvals").json()
    assert [q["id"] for q in queue if q["id"] == ann] == [ann]
    assert all(q["id"] != ann for q in communes.call("other", "GET", f"{V}/approvals").json())
    for who in ("viewer", "operator", "other"):
        r = communes.call(who, "POST", f"{V}/approvals/{ann}/approve", json={})
        assert r.status_code == 403, (who, r.text)
    assert (
        communes.call("approver", "POST", f"{V}/approvals/{ann}/reject", json={}).status_code == 422
    )
    r = communes.call(
        "approver", "POST", f"{V}/approvals/{ann}/reject", json={"comment": "Ghi rõ giờ"}
    )
    assert r.json()["approval"] == "rejected" and r.json()["approval_comment"] == "Ghi rõ giờ"
    assert not _on_air(communes, ann)
    r = communes.call(
        "operator",
        "PATCH",
        f"{V}/announcements/{ann}",
        json={"text": "Họp dân dong-an 19h tối nay."},
    )
    assert r.status_code == 200 and r.json()["approval"] == "pending", r.text
    r = communes.call(
        "approver", "POST", f"{V}/approvals/{ann}/approve", json={"comment": "Đồng ý"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["approval"], r.json()["approved_by"], r.json()["created_by"]) == (
        "approved",
        "approver",
        "operator",
    )
    assert _on_air(communes, ann)
    listed = next(
        a for a in communes.call("viewer", "GET", f"{V}/announcements").json() if a["id"] == ann
    )
    assert (listed["created_by"], listed["approved_by"]) == ("operator", "approver")
    # editing an approved item sends it back to approval: off the playlists until approved
    r = communes.call(
        "operator", "PATCH", f"{V}/announcements/{ann}", json={"title": "Họp dân (sửa)"}
    )
    assert r.json()["approval"] == "pending" and r.json()["approved_by"] is None
    assert not _on_air(communes, ann)


def test_emergencies_are_never_held_but_flagged_for_review(
    communes: Communes, approval_on: None
) -> None:
    r = communes.call(
        "operator",
        "POST",
        f"{V}/emergencies",
        json={"zones": ["ban-dong-an"], "text": "Khẩn cấp cháy rừng dong-an."},
    )
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    flagged = communes.call("approver", "GET", f"{V}/approvals/emergencies").json()
    assert any(e["id"] == eid and e["needs_review"] for e in flagged)
    path = f"{V}/approvals/emergencies/{eid}/review"
    assert communes.call("viewer", "POST", path, json={}).status_code == 403
    assert communes.call("other", "POST", path, json={}).status_code == 403
    r = communes.call("approver", "POST", path, json={"comment": "Đúng quy trình"})
    assert r.status_code == 200 and r.json()["reviewed_by"] == "approver", r.text
    flagged = communes.call("approver", "GET", f"{V}/approvals/emergencies").json()
    assert all(e["id"] != eid for e in flagged)


def test_upstream_alerts_enter_the_inbox_with_their_level(communes: Communes) -> None:
    geocode = {"zone_id": "ban-dong-an", "value_name": "MA_THON", "value": "dong-an-18"}
    r = communes.call("admin", "POST", f"{V}/upstream-alerts/geocodes", json=geocode)
    assert r.status_code in (200, 201), r.text
    area = {
        "description": "Bản Đồng An",
        "geocodes": [{"value_name": "MA_THON", "value": "dong-an-18"}],
    }
    alert = {
        "identifier": "kttv-dong-an-18",
        "sender": "kttv@example.vn",
        "sent": communes.ctl.clock.now().isoformat(),
        "info": [
            {
                "event": "Mưa lớn",
                "urgency": "Expected",
                "severity": "Moderate",
                "certainty": "Likely",
                "headline": "Mưa lớn dong-an chiều nay",
                "areas": [area],
            }
        ],
    }
    r = communes.call("admin", "POST", f"{V}/upstream-alerts/json", json=alert)
    assert r.status_code in (200, 201), r.text
    inbox = communes.call("operator", "GET", f"{V}/inbox").json()
    found = [i for i in inbox if i["title"].startswith("Mưa lớn")]
    assert len(found) == 1, inbox
    assert (found[0]["level"], found[0]["state"], found[0]["zone_id"]) == (
        "priority",
        "scheduled",
        "xa-dong-tien",
    )
    with communes.ctl.sessions() as session:
        ann = session.get_one(Announcement, found[0]["announcement_id"])
        assert (ann.origin, ann.bulletin_id) == ("upstream", found[0]["bulletin_id"])
    assert all(
        not i["title"].startswith("Mưa lớn")
        for i in communes.call("other", "GET", f"{V}/inbox").json()
    )
