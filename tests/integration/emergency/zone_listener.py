"""A bare MQTT listener on every zone command topic: what was really broadcast."""

from __future__ import annotations

import json
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from controller.broker.process import MosquittoProcess


class ZoneCommandListener:
    """Records every zone command published (topic, action, payload) — the broadcast check."""

    def __init__(self, broker: MosquittoProcess) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda c, *_a: c.subscribe("loa/v1/zone/+/cmd", qos=1)
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert subscribed.wait(10), "listener could not subscribe"

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        envelope = json.loads(msg.payload)
        with self._lock:
            self.received.append((msg.topic, envelope["payload"]))

    def actions(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(t.split("/")[3], str(p["action"])) for t, p in self.received]

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
