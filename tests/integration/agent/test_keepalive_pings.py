"""Against a real Mosquitto: while the agent's QoS 1 heartbeats flow - or QoS 0 signs of life
with a QoS 1 one often enough - paho sends no PINGREQ of its own (each costs ~160 wire bytes
on a paid link); QoS 0 alone is not enough (paho pings when it *reads* nothing for a
keep-alive); when nothing is published, the keep-alive still pings, so a dead link is still
found. The agent's MQTT socket carries TCP_USER_TIMEOUT, so a sign of life left
unacknowledged on a dead link ends the connection."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from agent.config import AgentSettings
from agent.mqtt_session import MqttSession
from controller.broker.process import MosquittoProcess

pytestmark = pytest.mark.integration

KEEPALIVE = 5  # the smallest the settings allow


def _pings_while(
    broker: MosquittoProcess,
    tmp_path: Path,
    publish_every: float | None,
    qos1_every: int = 1,
) -> int:
    settings = AgentSettings(
        node_id="ka-1", data_dir=tmp_path, mqtt_port=broker.port, mqtt_keepalive_s=KEEPALIVE
    )
    session = MqttSession(settings, {"loa/v1/node/ka-1/cmd": lambda _raw: None})
    pings: list[float] = []
    session.client.on_log = lambda _c, _u, _l, text: (
        pings.append(time.monotonic()) if "PINGREQ" in text else None
    )
    session.start()
    try:
        assert session.connected.wait(10)
        deadline = time.monotonic() + 2.5 * KEEPALIVE
        sent = 0
        while time.monotonic() < deadline:
            if publish_every is not None:
                sent += 1
                qos = 1 if sent % qos1_every == 0 else 0
                assert session.publish("loa/v1/node/ka-1/heartbeat", b"\xa0", qos)
            threading.Event().wait(publish_every or 0.5)
    finally:
        session.stop()
    return len(pings)


def test_qos1_heartbeats_replace_the_keepalive_ping(
    mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    assert _pings_while(mosquitto, tmp_path / "a", publish_every=KEEPALIVE / 2) == 0


def test_an_idle_session_still_pings(mosquitto: MosquittoProcess, tmp_path: Path) -> None:
    assert _pings_while(mosquitto, tmp_path / "b", publish_every=None) >= 2


def test_qos0_signs_of_life_with_every_nth_qos1_need_no_ping(
    mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    # QoS 1 every 3rd of 1 s: a PUBACK read every 3 s, under the 5 s keep-alive
    assert _pings_while(mosquitto, tmp_path / "c", publish_every=1.0, qos1_every=3) == 0


def test_qos0_alone_still_pings(mosquitto: MosquittoProcess, tmp_path: Path) -> None:
    # nothing answers QoS 0 above TCP: paho reads nothing and pings (hence the QoS 1 rounds)
    assert _pings_while(mosquitto, tmp_path / "d", publish_every=1.0, qos1_every=10**6) >= 2


def test_the_mqtt_socket_carries_tcp_user_timeout(
    mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    settings = AgentSettings(
        node_id="ka-2",
        data_dir=tmp_path,
        mqtt_port=mosquitto.port,
        heartbeat_interval_s=5,
        heartbeat_max_interval_s=45,
    )
    assert settings.user_timeout_s == 90
    handlers = {"loa/v1/node/ka-2/cmd": lambda _raw: None}
    session = MqttSession(settings, handlers)
    session.start()
    try:
        assert session.connected.wait(10)
        sock = session.client.socket()
        assert isinstance(sock, socket.socket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 90_000
    finally:
        session.stop()
    # 0: left at the kernel's default (no option set)
    off = MqttSession(settings.model_copy(update={"mqtt_user_timeout_s": 0}), handlers)
    off.start()
    try:
        assert off.connected.wait(10)
        sock = off.client.socket()
        assert isinstance(sock, socket.socket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 0
    finally:
        off.stop()
