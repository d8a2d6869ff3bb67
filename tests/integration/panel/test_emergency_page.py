"""The panel's emergency page: confirm twice, one-time tokens, roles, scope, node states.

Real app (SQLite, Mosquitto, espeak-ng); a real MQTT subscriber on the zone command topics
shows what was (and was not) published.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from integration.panel.panel_support import Panel
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import delete, func, select

from controller.broker.process import MosquittoProcess
from controller.db.models import AuditEntry, CommandDelivery, Emergency, PlaybackEvent
from controller.services.container import Controller
from protocol import topics

pytestmark = pytest.mark.integration

TOKEN = re.compile(r'name="token" value="([^"]+)"')
FORM: dict[str, object] = {
    "zones": ["ban-dong-an"],
    "text": "Lũ về, bà con sơ tán ngay.",
    "repeat": "2",
}


class ZoneCommands:
    """Every message published on any zone's command topic."""

    def __init__(self, broker: MosquittoProcess) -> None:
        self.topics: list[str] = []
        self._ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="emg-page-watch")
        self.client.on_connect = lambda c, *_: c.subscribe(f"{topics.PREFIX}/zone/+/cmd", 1)
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = lambda _c, _u, msg: self.topics.append(msg.topic)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._ready.wait(5), "subscriber never subscribed"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.topics) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.topics)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture(scope="module")
def watch(broker: MosquittoProcess) -> Iterator[ZoneCommands]:
    commands = ZoneCommands(broker)
    yield commands
    commands.close()


def _ctl(panel: Panel) -> Controller:
    ctl: Controller = panel.client.app.state.controller  # type: ignore[attr-defined]
    return ctl


def _emergencies(panel: Panel) -> list[Emergency]:
    with _ctl(panel).sessions() as session:
        return list(session.scalars(select(Emergency).order_by(Emergency.issued_at)))


def _audits(panel: Panel, action: str) -> int:
    with _ctl(panel).sessions() as session:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        return session.scalar(query) or 0


def _confirm(panel: Panel, role: str, form: dict[str, object]) -> str:
    client = panel.as_(role)
    page = client.post("/panel/emergency/confirm", data={**form, "csrf": panel.csrf[role]})
    assert page.status_code == 200, page.text
    match = TOKEN.search(page.text)
    assert match, page.text
    return match.group(1)


def _issue(panel: Panel, role: str, form: dict[str, object], token: str) -> int:
    client = panel.as_(role)
    data = {**form, "token": token, "csrf": panel.csrf[role]}
    return int(client.post("/panel/emergency", data=data).status_code)


@pytest.fixture(scope="module")
def issued(panel: Panel, watch: ZoneCommands) -> Emergency:
    """One emergency issued through both steps (the first test checks each step)."""
    token = _confirm(panel, "operator", FORM)
    assert _issue(panel, "operator", FORM, token) == 303
    return _emergencies(panel)[-1]


def test_first_post_only_confirms_and_the_second_issues(panel: Panel, watch: ZoneCommands) -> None:
    before = len(_emergencies(panel))
    client = panel.as_("operator")
    page = client.post("/panel/emergency/confirm", data={**FORM, "csrf": panel.csrf["operator"]})
    assert page.status_code == 200
    assert "Bản Đồng An" in page.text and FORM["text"] in page.text
    assert re.search(r'id="emg-node-count">1<', page.text)  # dong-an-1
    time.sleep(0.3)
    assert len(_emergencies(panel)) == before and watch.topics == []
    token = TOKEN.search(page.text)
    assert token
    assert _issue(panel, "operator", FORM, token.group(1)) == 303
    rows = _emergencies(panel)
    assert len(rows) == before + 1 and rows[-1].zone_ids == ["ban-dong-an"]
    assert rows[-1].created_by == "operator" and rows[-1].repeat == 2
    assert watch.wait_for(1) == [topics.zone_cmd("ban-dong-an")]
    assert _audits(panel, "emergency.issue") == 1


def test_a_replayed_or_tampered_token_is_refused(panel: Panel, watch: ZoneCommands) -> None:
    token = _confirm(panel, "operator", FORM)
    assert _issue(panel, "operator", FORM, token) == 303
    count = len(_emergencies(panel))
    assert _issue(panel, "operator", FORM, token) == 400  # replayed
    fresh = _confirm(panel, "operator", FORM)
    other_text = {**FORM, "text": "Nội dung khác với lúc xác nhận."}
    assert _issue(panel, "operator", other_text, fresh) == 400  # content changed
    more_zones = {**FORM, "zones": ["ban-dong-an", "ban-cay-thi"]}
    assert _issue(panel, "operator", more_zones, fresh) == 400
    forged = fresh[:-3] + ("AAA" if not fresh.endswith("AAA") else "BBB")
    assert _issue(panel, "operator", FORM, forged) == 400  # signature broken
    assert _issue(panel, "admin", FORM, fresh) == 400  # another user's session
    assert _issue(panel, "operator", FORM, "") == 400
    assert len(_emergencies(panel)) == count
    # the untouched token still works once: refusals above did not spend it
    assert _issue(panel, "operator", FORM, fresh) == 303
    assert len(_emergencies(panel)) == count + 1


def test_an_expired_token_is_refused(panel: Panel) -> None:
    token = _confirm(panel, "operator", FORM)
    tokens = panel.client.app.state.panel.confirmations  # type: ignore[attr-defined]
    lifetime = tokens.lifetime
    tokens.lifetime = timedelta(seconds=-1)
    try:
        stale = _confirm(panel, "operator", FORM)
    finally:
        tokens.lifetime = lifetime
    count = len(_emergencies(panel))
    assert _issue(panel, "operator", FORM, stale) == 400
    assert len(_emergencies(panel)) == count
    assert token  # a fresh one is unaffected
    assert _issue(panel, "operator", FORM, token) == 303


def test_viewer_reads_but_has_no_controls(panel: Panel, issued: Emergency) -> None:
    client = panel.as_("viewer")
    page = client.get("/panel/emergency")
    assert page.status_code == 200
    assert "/panel/emergency/confirm" not in page.text and issued.id in page.text
    assert 'href="/panel/emergency"' not in client.get("/panel/").text  # no nav entry
    detail = client.get(f"/panel/emergency/{issued.id}")
    assert detail.status_code == 200 and "/cancel/confirm" not in detail.text
    csrf = panel.csrf["viewer"]
    assert client.post("/panel/emergency/confirm", data={**FORM, "csrf": csrf}).status_code == 403
    data = {**FORM, "csrf": csrf, "token": "x"}
    assert client.post("/panel/emergency", data=data).status_code == 403
    path = f"/panel/emergency/{issued.id}/cancel"
    assert client.post(path + "/confirm", data={"csrf": csrf}).status_code == 403
    assert client.post(path, data={"csrf": csrf, "token": "x"}).status_code == 403
    assert 'href="/panel/emergency"' in panel.as_("operator").get("/panel/").text


def test_operator_of_another_commune_is_refused(panel: Panel, issued: Emergency) -> None:
    count = len(_emergencies(panel))
    client = panel.as_("other")
    csrf = panel.csrf["other"]
    assert client.post("/panel/emergency/confirm", data={**FORM, "csrf": csrf}).status_code == 403
    assert client.post("/panel/emergency", data={**FORM, "csrf": csrf}).status_code == 403
    assert issued.id not in client.get("/panel/emergency").text
    assert client.get(f"/panel/emergency/{issued.id}").status_code == 404
    path = f"/panel/emergency/{issued.id}/cancel"
    assert client.post(path + "/confirm", data={"csrf": csrf}).status_code == 404
    assert len(_emergencies(panel)) == count
    # their own commune works (the form lists only their zones)
    assert 'value="ban-dong-an"' not in client.get("/panel/emergency").text
    assert _confirm(panel, "other", {**FORM, "zones": ["vi-huong-thon-1"]})


def test_bad_form_is_refused_with_a_reason(panel: Panel) -> None:
    client = panel.as_("operator")
    csrf = panel.csrf["operator"]
    for bad in (
        {**FORM, "zones": []},
        {**FORM, "text": ""},
        {**FORM, "media_sha256": "0" * 64},
        {**FORM, "repeat": "0"},
        {**FORM, "repeat": "1", "every_min": "5"},
        {**FORM, "until": "2000-01-01T00:00"},
    ):
        r = client.post("/panel/emergency/confirm", data={**bad, "csrf": csrf})
        assert r.status_code == 422 and 'id="emg-error"' in r.text, bad
        assert 'name="token"' not in r.text
    # an unknown zone: outside a commune operator's scope (403), unknown to an admin (422)
    unknown = {**FORM, "zones": ["khong-co"]}
    assert (
        client.post("/panel/emergency/confirm", data={**unknown, "csrf": csrf}).status_code == 403
    )
    admin = panel.as_("admin")
    r = admin.post("/panel/emergency/confirm", data={**unknown, "csrf": panel.csrf["admin"]})
    assert r.status_code == 422 and "khong-co" in r.text


def test_both_posts_read_the_form_the_same_way(panel: Panel) -> None:
    """One form model serves the confirm and the issue POST: same limits, same defaults."""
    client = panel.as_("operator")
    csrf = panel.csrf["operator"]
    count = len(_emergencies(panel))
    for field, size in (("text", 10_001), ("repeat", 65), ("until", 65)):
        long = {**FORM, field: "9" * size, "csrf": csrf}
        assert client.post("/panel/emergency/confirm", data=long).status_code == 422, field
        assert client.post("/panel/emergency", data={**long, "token": "x"}).status_code == 422
    assert (
        client.post(
            "/panel/emergency", data={**FORM, "csrf": csrf, "token": "x" * 2001}
        ).status_code
        == 422
    )
    # a blank repeat is the default 1, carried by the confirmation page to the second POST
    blank = {**FORM, "zones": ["ban-cay-thi", "ban-dong-an"], "repeat": ""}
    page = client.post("/panel/emergency/confirm", data={**blank, "csrf": csrf})
    assert page.status_code == 200 and '<input type="hidden" name="repeat" value="1">' in page.text
    token = TOKEN.search(page.text)
    assert token
    # the token binds the content, not the order the zones were ticked in
    swapped = {**blank, "zones": ["ban-dong-an", "ban-cay-thi"]}
    assert _issue(panel, "operator", swapped, token.group(1)) == 303
    rows = _emergencies(panel)
    assert len(rows) == count + 1 and rows[-1].repeat == 1
    assert sorted(rows[-1].zone_ids) == ["ban-cay-thi", "ban-dong-an"]


def test_cancel_needs_confirmation(panel: Panel, watch: ZoneCommands) -> None:
    token = _confirm(panel, "operator", FORM)
    assert _issue(panel, "operator", FORM, token) == 303
    emergency = _emergencies(panel)[-1]
    client = panel.as_("operator")
    csrf = panel.csrf["operator"]
    path = f"/panel/emergency/{emergency.id}/cancel"
    assert client.post(path, data={"csrf": csrf}).status_code == 400
    assert _emergencies(panel)[-1].cancelled_at is None
    confirm = client.post(path + "/confirm", data={"csrf": csrf})
    assert confirm.status_code == 200 and emergency.title in confirm.text
    assert _emergencies(panel)[-1].cancelled_at is None
    cancel_token = TOKEN.search(confirm.text)
    assert cancel_token
    # an issue token does not cancel, a cancel token of this emergency does, once
    assert client.post(path, data={"csrf": csrf, "token": token}).status_code == 400
    done = client.post(path, data={"csrf": csrf, "token": cancel_token.group(1)})
    assert done.status_code == 303
    row = _emergencies(panel)[-1]
    assert row.cancelled_at is not None and row.cancelled_by == "operator"
    assert _audits(panel, "emergency.cancel") >= 1
    again = client.post(path, data={"csrf": csrf, "token": cancel_token.group(1)})
    assert again.status_code == 400


def test_the_page_shows_each_nodes_state(panel: Panel) -> None:
    form = {**FORM, "zones": ["xa-dong-tien"]}
    token = _confirm(panel, "admin", form)
    assert _issue(panel, "admin", form, token) == 303
    emergency = _emergencies(panel)[-1]
    ctl = _ctl(panel)
    now = ctl.clock.now()
    with ctl.sessions.begin() as session:
        session.execute(delete(PlaybackEvent).where(PlaybackEvent.item_id == emergency.item_id))
        for delivery in session.scalars(
            select(CommandDelivery).where(CommandDelivery.command_id.in_(emergency.command_ids))
        ):
            delivery.state = "acked"
            delivery.updated_at = now
        reports = {"dong-an-1": ["started"], "cay-thi-1": ["started", "finished"]}
        for node, kinds in reports.items():
            for seq, kind in enumerate(kinds, start=90_000):
                session.add(
                    PlaybackEvent(
                        node_id=node,
                        seq=seq,
                        kind=kind,
                        at=now,
                        item_id=emergency.item_id,
                        received_at=now,
                    )
                )
    page = panel.as_("viewer").get(f"/panel/emergency/{emergency.id}")
    assert page.status_code == 200
    rows = dict(re.findall(r'data-node="([^"]+)">.*?class="badge (\w+)"', page.text, re.S))
    assert rows == {"dong-an-1": "playing", "cay-thi-1": "finished", "khe-ngo-1": "received"}
    live = panel.as_("viewer").get(f"/panel/emergency/{emergency.id}/live").text
    assert 'data-node="cay-thi-1"' in live
    listing = panel.as_("viewer").get("/panel/emergency/live").text
    row = re.search(rf'data-emergency="{emergency.id}".*?</tr>', listing, re.S)
    assert row
    assert re.search(r'count-playing">1<', row.group(0))
    assert re.search(r'count-finished">1<', row.group(0))
    assert re.search(r'count-received">1<', row.group(0))
