"""One paho-mqtt 2.x connection for the controller, behind a small interface.

The session is persistent (clean_start false + session expiry) so QoS 1 events published
while the controller was down are delivered when it comes back. Ingestion subscriptions use
MQTT 5 shared subscriptions so replicas split the load; status is subscribed plainly
because brokers do not send retained messages to shared subscriptions.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from controller.config import ControllerSettings
from protocol import topics

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]

SESSION_EXPIRY_S = 24 * 3600
MAX_TIMED_PUBLISHES = 10_000  # publishes awaiting PUBACK that we time (a bound, not a limit)
PublishObserver = Callable[[str, float], None]


class MqttLink:
    def __init__(self, settings: ControllerSettings, on_message: MessageHandler) -> None:
        self._on_message_cb = on_message
        self.connected = threading.Event()
        # Told of each QoS 1 publish the broker confirmed: (topic, seconds to PUBACK).
        self.publish_observer: PublishObserver | None = None
        self._timed: dict[int, tuple[str, float]] = {}
        self._early_acks: dict[int, float] = {}
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.mqtt_client_id,
            protocol=mqtt.MQTTv5,
        )
        client.max_queued_messages_set(0)
        # No client-side window for our QoS 1 publishes (event acks, playlists, commands): the
        # broker acks each at once, and paho 2.2 rescans its whole window on every PUBACK when
        # one is set (a quarter of the network thread's time during an ingest burst).
        client.max_inflight_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        if settings.mqtt_username:
            password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
            client.username_pw_set(settings.mqtt_username, password)
        if settings.mqtt_tls_ca is not None:
            client.tls_set(ca_certs=str(settings.mqtt_tls_ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        self._client = client
        self._host = settings.mqtt_host
        self._port = settings.mqtt_port

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(
            self._host, self._port, keepalive=30, clean_start=False, properties=props
        )
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self.connected.clear()
        self._timed.clear()
        self._early_acks.clear()

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False
    ) -> mqtt.MQTTMessageInfo:
        started = time.monotonic()
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        observer = self.publish_observer
        if observer is not None and qos > 0 and info.rc == mqtt.MQTT_ERR_SUCCESS:
            # The PUBACK may beat us here (it is read on the network thread): no lock, as
            # paho holds its own while calling on_publish and we hold nothing across publish.
            acked_at = self._early_acks.pop(info.mid, None)
            if acked_at is not None:
                observer(topic, acked_at - started)
            elif len(self._timed) < MAX_TIMED_PUBLISHES:
                self._timed[info.mid] = (topic, started)
        return info

    def _on_publish(
        self, _client: mqtt.Client, _ud: Any, mid: int, _reason: Any, _props: Any
    ) -> None:
        observer = self.publish_observer
        if observer is None:
            return
        now = time.monotonic()
        timed = self._timed.pop(mid, None)
        if timed is not None:
            observer(timed[0], now - timed[1])
        elif len(self._early_acks) < MAX_TIMED_PUBLISHES:
            self._early_acks[mid] = now

    def _on_connect(
        self, client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the controller: %s", reason)
            return
        client.subscribe(
            [
                (topics.shared(topics.all_nodes("events")), 1),
                (topics.shared(topics.all_nodes("heartbeat")), 0),
                (topics.all_nodes("status"), 1),
            ]
        )
        self.connected.set()
        log.info("controller connected to MQTT %s:%s", self._host, self._port)

    def _on_disconnect(
        self, _client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        self.connected.clear()
        log.warning("controller lost MQTT connection: %s", reason)

    def _on_message(self, _client: mqtt.Client, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self._on_message_cb(msg.topic, bytes(msg.payload))
        except Exception:  # the network thread must survive any handler bug
            log.exception("handler failed for topic %s", msg.topic)
