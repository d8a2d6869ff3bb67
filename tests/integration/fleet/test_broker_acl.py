"""Per-node broker credentials and ACLs, generated from the database, against real Mosquitto."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select
from support.processes import wait_until

from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.db.models import PlaybackEvent, Zone
from controller.services import provisioning
from controller.services.container import Controller
from protocol import topics
from protocol.codec import encode
from protocol.models import EventBatch, EventKind
from protocol.models import PlaybackEvent as EventMsg

pytestmark = pytest.mark.integration
T0 = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass
class Fleet:
    ctl: Controller
    broker: MosquittoProcess
    creds: dict[str, provisioning.Credentials]


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    pw, acl = tmp_path / "broker" / "passwd", tmp_path / "broker" / "acl"
    broker = MosquittoProcess(tmp_path / "mosq", password_file=pw, acl_file=acl)
    settings = ControllerSettings(
        data_dir=tmp_path / "ctl",
        tts_engine_order=["espeak-ng"],
        mqtt_port=broker.port,
        mqtt_username="loa-controller",
        mqtt_password="controller-secret-for-test",  # type: ignore[arg-type]
        broker_password_file=pw,
        broker_acl_file=acl,
    )
    ctl = Controller.build(settings)
    ctl.broker_reload = broker.reload
    creds = {}
    with ctl.sessions.begin() as s:
        s.add(Zone(id="xa", name="Xã", created_at=T0))
        s.flush()
        s.add(Zone(id="thon-a", name="Thôn A", parent_id="xa", created_at=T0))
        s.add(Zone(id="thon-b", name="Thôn B", parent_id="xa", created_at=T0))
        s.flush()
        pins = ctl.identity().pins
        tokens = {
            n: provisioning.create_node(
                s, node_id=n, name=n, zone_id=f"thon-{n[-1]}", now=T0, identity=pins
            )[1]
            for n in ("node-a", "node-b")
        }
        s.flush()
        for n, token in tokens.items():
            creds[n] = provisioning.enrol(s, token, T0)
    ctl.sync_broker_access()
    broker.start()
    ctl.start()
    yield Fleet(ctl, broker, creds)
    ctl.stop()
    broker.stop()


class Peer:
    """A bare MQTT client logged in as some account, recording what it receives."""

    def __init__(self, broker: MosquittoProcess, username: str, password: str) -> None:
        self.received: list[str] = []
        self.sub_codes: list[int] = []
        self.connect_rc: int | None = None
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"peer-{username}-{time.time_ns()}",
            protocol=mqtt.MQTTv5,
        )
        c.username_pw_set(username, password)
        c.on_connect = self._on_connect
        c.on_message = lambda _c, _u, m: self.received.append(m.topic)
        c.on_subscribe = self._on_subscribe
        c.connect(broker.host, broker.port)
        c.loop_start()
        self.client = c
        self._connected.wait(5)

    def _on_connect(
        self, _c: object, _u: object, _f: object, reason: mqtt.ReasonCode, _p: object
    ) -> None:
        self.connect_rc = reason.value
        self._connected.set()

    def _on_subscribe(
        self, _c: object, _u: object, _m: object, codes: list[mqtt.ReasonCode], _p: object
    ) -> None:
        self.sub_codes = [c.value for c in codes]
        self._subscribed.set()

    def subscribe(self, topic: str) -> list[int]:
        self._subscribed.clear()
        self.client.subscribe(topic, qos=1)
        self._subscribed.wait(5)
        return self.sub_codes

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def batch(node: str, seq: int) -> bytes:
    ev = EventMsg(seq=seq, kind=EventKind.STARTED, at=T0, item_id="x")
    return encode(EventBatch(node_id=node, sent_at=T0, events=[ev]))


def stored_nodes(ctl: Controller) -> set[str]:
    with ctl.sessions() as s:
        return set(s.scalars(select(PlaybackEvent.node_id).distinct()))


def test_node_a_cannot_read_b_or_publish_as_b(fleet: Fleet) -> None:
    a = fleet.creds["node-a"]
    peer = Peer(fleet.broker, a.mqtt_username, a.mqtt_password)
    assert peer.connect_rc == 0
    assert peer.subscribe(topics.node_cmd("node-a")) == [1]
    assert peer.subscribe(topics.zone_cmd("xa")) == [1]  # an ancestor zone of its village
    # Mosquitto 2.0 grants the subscription but filters every delivery through the ACL.
    peer.subscribe(topics.node_cmd("node-b"))
    peer.subscribe(topics.zone_cmd("thon-b"))
    peer.subscribe("loa/v1/#")
    fleet.ctl.mqtt.publish(topics.node_cmd("node-b"), b"secret for b", 1, False)
    fleet.ctl.mqtt.publish(topics.zone_cmd("thon-b"), b"secret for b's village", 1, False)
    fleet.ctl.mqtt.publish(topics.node_cmd("node-a"), b"for a", 1, False)
    wait_until(lambda: topics.node_cmd("node-a") in peer.received, 5)
    assert topics.node_cmd("node-b") not in peer.received
    assert topics.zone_cmd("thon-b") not in peer.received

    # Publishing as B (on B's topics) is dropped by the broker; A's own events get through.
    peer.client.publish(topics.node_events("node-b"), batch("node-b", 1), qos=1)
    peer.client.publish(topics.node_status("node-b"), b"offline", qos=1, retain=True)
    peer.client.publish(topics.node_events("node-a"), batch("node-a", 1), qos=1)
    wait_until(lambda: "node-a" in stored_nodes(fleet.ctl), 5)
    time.sleep(0.5)
    assert stored_nodes(fleet.ctl) == {"node-a"}
    peer.close()


def test_wrong_password_and_revoked_node_are_refused(fleet: Fleet) -> None:
    a, b = fleet.creds["node-a"], fleet.creds["node-b"]
    assert Peer(fleet.broker, a.mqtt_username, "wrong").connect_rc != 0
    peer_b = Peer(fleet.broker, b.mqtt_username, b.mqtt_password)
    assert peer_b.connect_rc == 0
    with fleet.ctl.sessions.begin() as s:
        provisioning.revoke(s, "node-b", T0)
    fleet.ctl.sync_broker_access()
    time.sleep(0.5)  # SIGHUP is asynchronous
    # the live session loses its rights at once: its events no longer reach the controller
    peer_b.client.publish(topics.node_events("node-b"), batch("node-b", 1), qos=1)
    time.sleep(1.0)
    assert "node-b" not in stored_nodes(fleet.ctl)
    peer_b.close()
    assert Peer(fleet.broker, b.mqtt_username, b.mqtt_password).connect_rc != 0


def test_enrolment_token_is_single_use(fleet: Fleet) -> None:
    with fleet.ctl.sessions.begin() as s:
        token = provisioning.new_enrolment_token(
            s, "node-a", now=T0, identity=fleet.ctl.identity().pins
        )
        provisioning.enrol(s, token, T0)
        with pytest.raises(provisioning.ProvisioningError, match="already used"):
            provisioning.enrol(s, token, T0)
