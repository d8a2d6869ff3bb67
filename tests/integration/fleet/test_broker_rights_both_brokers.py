"""One allow/deny table, checked against both broker forms of the per-node rights:

* Mosquitto with the password/ACL files the controller renders (real broker, real clients:
  a publish counts as allowed when the controller's account receives it, a read when the
  node receives what the controller published);
* the EMQX form: the controller's HTTP authn/authz hooks, called over real HTTP exactly as
  EMQX calls them (``{"username", "password"}`` / ``{"username", "topic", "action"}`` ->
  ``{"result": "allow" | "deny"}``).

EMQX itself cannot run here (no Docker on this machine); the hook contract is EMQX 5's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from support.processes import wait_until
from support.served_controller import ServedController

from controller.broker.access_files import BrokerAccessWriter
from controller.broker.passwords import mosquitto_hash
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.db.models import Zone
from controller.services import provisioning
from protocol import topics
from protocol.clock import FakeClock

pytestmark = pytest.mark.integration

CTL_USER, CTL_PASSWORD = "loa-controller", "controller-secret-for-the-rights-test"
HOOK_TOKEN = "broker-hook-token-for-the-test-0123456789"  # a test value, not a secret
FROM_NODE, FROM_CTL = b"sent by node-a", b"sent by the controller"
A, B = "node-a", "node-b"  # node-a lives in thon-a, node-b in thon-b, both under xa

# (who, action, topic, allowed): "read" = subscribe and receive, "publish" = send
TABLE: list[tuple[str, str, str, bool]] = [
    (A, "publish", topics.node_status(A), True),
    (A, "publish", topics.node_heartbeat(A), True),
    (A, "publish", topics.node_events(A), True),
    (A, "publish", topics.node_playlist(A), False),  # nobody but the controller signs/sends
    (A, "publish", topics.node_cmd(A), False),
    (A, "publish", topics.node_events_ack(A), False),
    (A, "publish", topics.zone_cmd("thon-a"), False),
    (A, "publish", topics.node_status(B), False),
    (A, "publish", topics.node_heartbeat(B), False),
    (A, "publish", topics.node_events(B), False),
    (A, "subscribe", topics.node_playlist(A), True),
    (A, "subscribe", topics.node_cmd(A), True),
    (A, "subscribe", topics.node_events_ack(A), True),
    (A, "subscribe", topics.zone_cmd("thon-a"), True),
    (A, "subscribe", topics.zone_cmd("xa"), True),  # an ancestor of its village
    (A, "subscribe", topics.zone_cmd("thon-b"), False),
    (A, "subscribe", topics.node_playlist(B), False),
    (A, "subscribe", topics.node_cmd(B), False),
    (A, "subscribe", topics.node_events_ack(B), False),
    (A, "subscribe", topics.node_heartbeat(B), False),
    (A, "subscribe", topics.node_events(B), False),
]


@dataclass
class Rig:
    served: ServedController
    broker: MosquittoProcess
    creds: dict[str, provisioning.Credentials]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    pw, acl = tmp_path / "broker" / "passwd", tmp_path / "broker" / "acl"
    BrokerAccessWriter(pw, acl, lambda: None).write(CTL_USER, mosquitto_hash(CTL_PASSWORD), [])
    broker = MosquittoProcess(tmp_path / "mosq", password_file=pw, acl_file=acl)
    broker.start()
    settings = ControllerSettings(
        data_dir=tmp_path / "ctl",
        tts_engine_order=["espeak-ng"],
        mqtt_port=broker.port,
        mqtt_username=CTL_USER,
        mqtt_password=CTL_PASSWORD,  # type: ignore[arg-type]
        broker_password_file=pw,
        broker_acl_file=acl,
        broker_hook_token=HOOK_TOKEN,  # type: ignore[arg-type]
        scheduler_enabled=False,
    )
    clock = FakeClock(datetime.now(UTC))
    served = ServedController(settings, clock).__enter__()
    ctl = served.ctl
    ctl.broker_reload = broker.reload
    now = clock.now()
    creds = {}
    with ctl.sessions.begin() as s:
        s.add(Zone(id="xa", name="Xã", created_at=now))
        s.flush()
        for village in ("thon-a", "thon-b"):
            s.add(Zone(id=village, name=village, parent_id="xa", created_at=now))
        s.flush()
        pins = ctl.identity().pins
        for n in (A, B):
            _, token = provisioning.create_node(
                s, node_id=n, name=n, zone_id=f"thon-{n[-1]}", now=now, identity=pins
            )
            s.flush()
            creds[n] = provisioning.enrol(s, token, now)
    ctl.sync_broker_access()
    time.sleep(0.3)  # SIGHUP reload is asynchronous
    yield Rig(served, broker, creds)
    served.__exit__()
    broker.stop()


class Client:
    """A bare MQTT 5 client that records the (topic, payload) pairs it receives."""

    def __init__(self, broker: MosquittoProcess, username: str, password: str) -> None:
        self.received: set[tuple[str, bytes]] = set()
        self._lock = threading.Lock()
        self._up = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{username}-{time.time_ns()}",
                        protocol=mqtt.MQTTv5)  # fmt: skip
        c.username_pw_set(username, password)
        c.on_connect = lambda *_: self._up.set()
        c.on_message = lambda _c, _u, m: self._record(m.topic, m.payload)
        c.connect(broker.host, broker.port)
        c.loop_start()
        assert self._up.wait(5)
        self.client = c

    def _record(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self.received.add((topic, payload))

    def seen(self) -> set[tuple[str, bytes]]:
        with self._lock:
            return set(self.received)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def mosquitto_outcomes(rig: Rig) -> dict[tuple[str, str], bool]:
    """Each row of the table tried on the real Mosquitto."""
    a = rig.creds[A]
    node = Client(rig.broker, a.mqtt_username, a.mqtt_password)
    ctl = Client(rig.broker, CTL_USER, CTL_PASSWORD)
    try:
        reads = [t for who, act, t, _ in TABLE if act == "subscribe"]
        writes = [t for who, act, t, _ in TABLE if act == "publish"]
        for t in writes:
            ctl.client.subscribe(t, qos=1)
        for t in reads:
            node.client.subscribe(t, qos=1)
        time.sleep(0.5)  # subscriptions settle (SUBACKs)
        for t in writes:
            node.client.publish(t, FROM_NODE, qos=1)
        for t in reads:
            ctl.client.publish(t, FROM_CTL, qos=1)
        sent_ok = {(t, FROM_NODE) for _, act, t, ok in TABLE if ok and act == "publish"}
        read_ok = {(t, FROM_CTL) for _, act, t, ok in TABLE if ok and act == "subscribe"}
        wait_until(lambda: sent_ok <= ctl.seen() and read_ok <= node.seen(), 10)
        time.sleep(1.0)  # give refused messages every chance to (wrongly) arrive
        out: dict[tuple[str, str], bool] = {}
        for t in writes:
            out[("publish", t)] = (t, FROM_NODE) in ctl.seen()
        for t in reads:
            out[("subscribe", t)] = (t, FROM_CTL) in node.seen()
        return out
    finally:
        node.close()
        ctl.close()


def test_mosquitto_acl_follows_the_table(rig: Rig) -> None:
    outcomes = mosquitto_outcomes(rig)
    wrong = [(act, t, ok) for _, act, t, ok in TABLE if outcomes[(act, t)] != ok]
    assert wrong == []


def hook(rig: Rig, path: str, body: dict[str, str], token: str = HOOK_TOKEN) -> httpx.Response:
    return httpx.post(rig.served.url + f"/api/v1/broker/{path}", json=body,
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)  # fmt: skip


def test_emqx_authz_hook_follows_the_same_table(rig: Rig) -> None:
    a = rig.creds[A]
    wrong = []
    for _, act, t, ok in TABLE:
        r = hook(rig, "authz", {"username": a.mqtt_username, "topic": t, "action": act})
        assert r.status_code == 200, r.text
        if r.json() != {"result": "allow" if ok else "deny"}:
            wrong.append((act, t, ok))
    assert wrong == []
    # wildcards and unknown actions are denied to nodes; the controller has loa/v1/*
    for act, t in (("subscribe", "loa/v1/#"), ("subscribe", "loa/v1/node/+/cmd"),
                   ("all", topics.node_status(A))):  # fmt: skip
        body = {"username": a.mqtt_username, "topic": t, "action": act}
        assert hook(rig, "authz", body).json() == {"result": "deny"}
    ctl_sub = {"username": CTL_USER, "topic": "loa/v1/node/+/heartbeat", "action": "subscribe"}
    assert hook(rig, "authz", ctl_sub).json() == {"result": "allow"}
    ctl_out = {"username": CTL_USER, "topic": "elsewhere/x", "action": "publish"}
    assert hook(rig, "authz", ctl_out).json() == {"result": "deny"}


def test_emqx_authn_hook_accepts_only_live_accounts(rig: Rig) -> None:
    a, b = rig.creds[A], rig.creds[B]

    def login(user: str, password: str) -> str:
        r = hook(rig, "authn", {"username": user, "password": password, "clientid": "c"})
        assert r.status_code == 200, r.text
        assert r.json()["is_superuser"] is False
        result: str = r.json()["result"]
        return result

    assert login(a.mqtt_username, a.mqtt_password) == "allow"
    assert login(CTL_USER, CTL_PASSWORD) == "allow"
    assert login(a.mqtt_username, b.mqtt_password) == "deny"
    assert login("node-nobody", "x") == "deny"
    assert login(CTL_USER, "") == "deny"
    with rig.served.ctl.sessions.begin() as s:
        provisioning.revoke(s, B, datetime.now(UTC))
    assert login(b.mqtt_username, b.mqtt_password) == "deny"
    body = {"username": b.mqtt_username, "topic": topics.node_status(B), "action": "publish"}
    assert hook(rig, "authz", body).json() == {"result": "deny"}


def test_only_the_broker_may_call_the_hooks(rig: Rig) -> None:
    body = {"username": CTL_USER, "password": CTL_PASSWORD}
    assert hook(rig, "authn", body, token="x" * 40).status_code == 403
    r = httpx.post(rig.served.url + "/api/v1/broker/authn", json=body, timeout=10)
    assert r.status_code == 403
