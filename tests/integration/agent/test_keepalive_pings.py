"""Against a real Mosquitto: while the agent's QoS 1 heartbeats flow, paho sends no PINGREQ
of its own (each costs ~160 wire bytes on a paid link); when nothing is published, the
keep-alive still pings, so a dead link is still found."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from agent.config import AgentSettings
from agent.mqtt_session import MqttSession
from controller.broker.process import MosquittoProcess

pytestmark = pytest.mark.integration

KEEPALIVE = 5  # the smallest the settings allow


def _pings_while(broker: MosquittoProcess, tmp_path: Path, publish_every: float | None) -> int:
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
        while time.monotonic() < deadline:
            if publish_every is not None:
                assert session.publish("loa/v1/node/ka-1/heartbeat", b"\xa0", 1)
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
