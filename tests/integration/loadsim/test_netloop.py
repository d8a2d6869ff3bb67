"""One epoll network loop carrying many agents' MQTT sessions, against a real Mosquitto."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from agent.config import AgentSettings
from agent.mqtt_session import MqttSession
from controller.broker.process import MosquittoProcess
from loadsim import netloop
from loadsim.fleet import raise_descriptor_limit
from loadsim.netloop import NetworkLoop
from protocol import topics
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

ZONE_TOPIC = topics.zone_cmd("xa-thu-nghiem")


class Received:
    def __init__(self) -> None:
        self.by_node: dict[str, list[bytes]] = {}
        self.lock = threading.Lock()

    def handler(self, node: str) -> object:
        def on_message(raw: bytes) -> None:
            with self.lock:
                self.by_node.setdefault(node, []).append(raw)

        return on_message

    def count(self, payload: bytes) -> int:
        with self.lock:
            return sum(payload in got for got in self.by_node.values())


@pytest.fixture
def loop() -> Iterator[NetworkLoop]:
    network = NetworkLoop()
    network.start()
    yield network
    network.stop()


def sessions_on(
    loop: NetworkLoop, broker: MosquittoProcess, tmp: Path, n: int, received: Received
) -> list[MqttSession]:
    sessions = []
    for i in range(n):
        node = f"loa-{i:04d}"
        settings = AgentSettings(
            node_id=node,
            data_dir=tmp,
            mqtt_host=broker.host,
            mqtt_port=broker.port,
            reconnect_min_s=0.2,
            reconnect_max_s=1.0,
        )
        handler = received.handler(node)
        session = MqttSession(settings, {ZONE_TOPIC: handler}, driver=loop)  # type: ignore[dict-item]
        session.start()
        sessions.append(session)
    return sessions


class Publisher:
    """A plain paho client, made before the sessions: its own select() loop needs a low fd."""

    def __init__(self, broker: MosquittoProcess) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.reconnect_delay_set(0.2, 1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def send(self, payload: bytes) -> None:
        wait_until(self.client.is_connected, 20)
        self.client.publish(ZONE_TOPIC, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mosquitto: MosquittoProcess) -> Iterator[Publisher]:
    pub = Publisher(mosquitto)
    yield pub
    pub.close()


def test_more_sessions_than_select_can_watch_all_get_the_zone_message(
    tmp_path: Path, mosquitto: MosquittoProcess, loop: NetworkLoop, publisher: Publisher
) -> None:
    """1,100 sessions: descriptors past 1024, where paho's own select() loop would fail."""
    assert raise_descriptor_limit() > 2000
    received = Received()
    sessions = sessions_on(loop, mosquitto, tmp_path, 1100, received)
    wait_until(lambda: all(s.connected.is_set() for s in sessions), 60)
    wait_until(lambda: all(s.connects == 1 for s in sessions), 10)  # subscribed on connect
    publisher.send(b"hop-1")
    wait_until(lambda: received.count(b"hop-1") == 1100, 30)
    for session in sessions[:3]:
        session.stop()


def test_sessions_come_back_after_a_broker_restart_and_still_receive(
    tmp_path: Path, mosquitto: MosquittoProcess, loop: NetworkLoop, publisher: Publisher
) -> None:
    received = Received()
    sessions = sessions_on(loop, mosquitto, tmp_path, 20, received)
    wait_until(lambda: all(s.connected.is_set() for s in sessions), 20)
    mosquitto.stop()
    wait_until(lambda: not any(s.connected.is_set() for s in sessions), 20)
    mosquitto.start()
    wait_until(lambda: all(s.connected.is_set() for s in sessions), 30)
    assert all(s.connects == 2 for s in sessions)
    publisher.send(b"after-restart")
    wait_until(lambda: received.count(b"after-restart") == 20, 20)


def test_stopping_one_session_says_offline_and_leaves_the_others_up(
    tmp_path: Path, mosquitto: MosquittoProcess, loop: NetworkLoop, publisher: Publisher
) -> None:
    status: dict[str, bytes] = {}
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    watcher.on_message = lambda _c, _u, m: status.__setitem__(m.topic, m.payload)
    watcher.connect(mosquitto.host, mosquitto.port)
    watcher.subscribe(topics.all_nodes("status"), qos=1)
    watcher.loop_start()
    try:
        received = Received()
        first, second = sessions_on(loop, mosquitto, tmp_path, 2, received)
        wait_until(lambda: first.connected.is_set() and second.connected.is_set(), 20)
        first.stop()
        wait_until(lambda: status.get(topics.node_status("loa-0000")) == b"offline", 10)
        assert status.get(topics.node_status("loa-0001")) == b"online"
        publisher.send(b"still-here")
        wait_until(lambda: received.count(b"still-here") == 1, 10)
        assert b"still-here" not in received.by_node.get("loa-0000", [])
    finally:
        watcher.disconnect()
        watcher.loop_stop()


def test_wait_quiet_holds_while_messages_keep_arriving_and_returns_once_they_stop(
    tmp_path: Path,
    mosquitto: MosquittoProcess,
    loop: NetworkLoop,
    publisher: Publisher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A window far longer than any scheduling hiccup of a loaded CI machine (the real 30 ms
    # window made a 30 ms stall look like silence); the logic under test is the same.
    window_s = 0.5
    monkeypatch.setattr(netloop, "QUIET_WINDOW_S", window_s)
    received = Received()
    (session,) = sessions_on(loop, mosquitto, tmp_path, 1, received)
    wait_until(session.connected.is_set, 20)
    streaming = threading.Event()
    streaming.set()

    def stream() -> None:
        while streaming.is_set():
            publisher.client.publish(ZONE_TOPIC, b"tick", qos=0)
            time.sleep(window_s / 25)

    sender = threading.Thread(target=stream, daemon=True)
    sender.start()
    try:
        wait_until(lambda: received.count(b"tick") == 1, 10)
        began = time.monotonic()
        loop.wait_quiet(began + 2.0)
        assert time.monotonic() - began >= 1.95  # never quiet: held until the deadline
    finally:
        streaming.clear()
        sender.join(5)
    began = time.monotonic()
    loop.wait_quiet(began + 5)
    assert time.monotonic() - began < 3.0  # the stream stopped: quiet after the window
