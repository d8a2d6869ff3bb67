"""Heartbeats, events and status through a real broker into SQLite: stored once, acked."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select

from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.db.models import Heartbeat, Node, PlaybackEvent, Zone
from controller.services.container import Controller
from protocol import topics
from protocol.codec import decode, encode
from protocol.models import EventAck, EventBatch, EventKind
from protocol.models import Heartbeat as HeartbeatMsg
from protocol.models import PlaybackEvent as EventMsg

pytestmark = pytest.mark.integration
T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def ctl(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Controller]:
    settings = ControllerSettings(
        data_dir=tmp_path / "ctl", tts_engine_order=["espeak-ng"], mqtt_port=mosquitto.port
    )
    controller = Controller.build(settings)
    with controller.sessions.begin() as s:
        s.add(Zone(id="xa", name="Xã", created_at=T0))
        s.flush()
        s.add(Node(id="n1", name="Loa 1", zone_id="xa", created_at=T0))
    controller.start()
    yield controller
    controller.stop()


def node_client(broker: MosquittoProcess, acks: list[EventAck]) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="n1", protocol=mqtt.MQTTv5)
    got = threading.Event()

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        acks.append(decode(EventAck, msg.payload))

    def on_subscribe(*_a: object) -> None:
        got.set()

    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.subscribe(topics.node_events_ack("n1"), qos=1)
    assert got.wait(5)
    return client


def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def make_batches(n_events: int, size: int) -> list[EventBatch]:
    events = [
        EventMsg(
            seq=i,
            kind=EventKind.STARTED if i % 2 else EventKind.FINISHED,
            at=T0 + timedelta(seconds=i),
            item_id=f"item-{i // 2}",
        )
        for i in range(1, n_events + 1)
    ]
    return [
        EventBatch(node_id="n1", sent_at=T0, events=events[i : i + size])
        for i in range(0, n_events, size)
    ]


def test_replayed_batches_in_any_order_are_stored_exactly_once(
    ctl: Controller, mosquitto: MosquittoProcess
) -> None:
    acks: list[EventAck] = []
    client = node_client(mosquitto, acks)
    batches = make_batches(200, 7)
    sends = batches * 5
    random.Random(7).shuffle(sends)
    for batch in sends:
        client.publish(topics.node_events("n1"), encode(batch), qos=1)
    wait_for(lambda: len(acks) == len(sends), 20)
    with ctl.sessions() as s:
        rows = s.execute(select(PlaybackEvent.seq)).scalars().all()
    assert sorted(rows) == list(range(1, 201))
    assert {seq for a in acks for seq in a.seqs} == set(range(1, 201))
    assert ctl.ingestor.stats.events == 200
    client.loop_stop()


def test_heartbeat_marks_online_and_status_offline_is_applied(
    ctl: Controller, mosquitto: MosquittoProcess
) -> None:
    client = node_client(mosquitto, [])
    hb = HeartbeatMsg(node_id="n1", sent_at=T0, uptime_s=5, volume=70)
    client.publish(topics.node_heartbeat("n1"), encode(hb), qos=1)

    def node() -> Node:
        with ctl.sessions() as s:
            found = s.get(Node, "n1")
            assert found is not None
            return found

    ghost = HeartbeatMsg(node_id="not-in-db", sent_at=T0)
    client.publish(topics.node_heartbeat("not-in-db"), encode(ghost), qos=1)
    wait_for(lambda: node().online and node().last_heartbeat is not None)
    assert node().last_heartbeat["volume"] == 70  # type: ignore[index]
    client.publish(topics.node_status("n1"), b"offline", qos=1, retain=True)
    wait_for(lambda: not node().online)
    with ctl.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Heartbeat)) == 2
    client.loop_stop()


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("loa/v1/node/n1/heartbeat", b"\xff\x00garbage"),
        ("loa/v1/node/n1/heartbeat", b'{"node_id": "n2", "sent_at": "2026-12-01T00:00:00Z"}'),
        ("loa/v1/node/n1/events", b"{" + b" " * 600_000 + b"}"),
        (
            "loa/v1/node/n1/events",
            b'{"node_id": "n1", "sent_at": "2026-12-01T00:00:00Z", "events": []}',
        ),
        ("loa/v1/node/n1/status", b"maybe"),
    ],
)
def test_bad_payloads_are_counted_and_the_bridge_survives(
    ctl: Controller, mosquitto: MosquittoProcess, topic: str, payload: bytes
) -> None:
    client = node_client(mosquitto, [])
    client.publish(topic, payload, qos=1)
    wait_for(lambda: ctl.rejects.total == 1)
    hb = HeartbeatMsg(node_id="n1", sent_at=T0)
    client.publish(topics.node_heartbeat("n1"), encode(hb), qos=1)
    wait_for(lambda: ctl.ingestor.stats.heartbeats == 1)
    client.loop_stop()
