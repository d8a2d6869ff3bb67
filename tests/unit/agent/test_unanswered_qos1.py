"""The agent's own check on the way back: a QoS 1 message that waits longer than the user
timeout for its PUBACK means a dead link (one a relay still ACKs at the TCP level)."""

from __future__ import annotations

from pathlib import Path

import paho.mqtt.client as mqtt

from agent.config import AgentSettings
from agent.mqtt_session import MqttSession


def _session(tmp_path: Path, **settings: object) -> MqttSession:
    config = AgentSettings(
        node_id="u-1", data_dir=tmp_path, heartbeat_interval_s=1, heartbeat_max_interval_s=2,
        **settings,  # type: ignore[arg-type]
    )  # fmt: skip
    return MqttSession(config, {"loa/v1/node/u-1/cmd": lambda _raw: None})


def test_a_puback_missing_past_the_user_timeout_is_a_dead_link(tmp_path: Path) -> None:
    session = _session(tmp_path)
    assert session.settings.user_timeout_s == 4
    info = mqtt.MQTTMessageInfo(7)
    session._awaiting.append((100.0, info))
    assert not session.unanswered(103.9)
    assert session.unanswered(104.5)
    info._set_as_published()  # the PUBACK came
    assert not session.unanswered(500.0)
    assert session._awaiting == []


def test_no_user_timeout_no_check(tmp_path: Path) -> None:
    session = _session(tmp_path, mqtt_user_timeout_s=0)
    session._awaiting.append((0.0, mqtt.MQTTMessageInfo(8)))
    assert not session.unanswered(10_000.0)
