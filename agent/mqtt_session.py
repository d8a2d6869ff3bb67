"""The agent's only contact with paho-mqtt: a persistent MQTT 5 session that never gives up.

A :class:`SessionDriver` runs the session's network I/O. The default, :class:`OwnThread`,
gives the session one thread that runs paho's loop and reconnects with :class:`Backoff`
(full jitter, so a whole province does not reconnect in the same second after a broker
restart); a caller that runs many sessions in one process may pass its own driver. The
session is persistent (``clean_start=False`` plus a session expiry), so QoS 1 commands sent
while the link was down are delivered when it returns. Subscriptions are renewed on every
connect because a broker that lost its state forgets them.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from agent.backoff import Backoff
from agent.config import AgentSettings
from protocol import topics

log = logging.getLogger(__name__)

Handler = Callable[[bytes], None]


class SessionDriver(Protocol):
    """Runs sessions' network I/O: connect, read, write, keepalive, reconnect with backoff."""

    def attach(self, session: MqttSession) -> None:
        """Start connecting ``session`` and keep it connected until ``detach``."""

    def detach(self, session: MqttSession, timeout: float) -> None:
        """Disconnect ``session`` cleanly and stop driving it."""


class OwnThread:
    """The default driver: each attached session gets one thread running paho's loop."""

    def __init__(self) -> None:
        self._threads: dict[int, threading.Thread] = {}

    def attach(self, session: MqttSession) -> None:
        thread = threading.Thread(target=self._run, args=(session,), name="mqtt", daemon=True)
        self._threads[id(session)] = thread
        thread.start()

    def detach(self, session: MqttSession, timeout: float) -> None:
        thread = self._threads.pop(id(session), None)
        if thread is not None:
            thread.join(timeout=timeout + 2)
        session.client.disconnect()

    @staticmethod
    def _run(session: MqttSession) -> None:
        linked = False
        while not session.stopping.is_set():
            if not linked:
                try:
                    session.connect_once()
                    linked = True
                except (OSError, ValueError) as exc:
                    session.stopping.wait(session.retry_delay(f"connect failed: {exc}"))
                    continue
            rc = session.client.loop(timeout=0.5)
            if rc == mqtt.MQTT_ERR_SUCCESS and session.unanswered(time.monotonic()):
                session.drop_link("a QoS 1 message was not acknowledged")
                continue  # the next loop reads the closed link and reconnects
            if rc != mqtt.MQTT_ERR_SUCCESS and not session.stopping.is_set():
                linked = False
                session.connected.clear()
                session.stopping.wait(session.retry_delay(f"link lost ({mqtt.error_string(rc)})"))


class MqttSession:
    def __init__(
        self,
        settings: AgentSettings,
        handlers: dict[str, Handler],
        on_connected: Callable[[], None] | None = None,
        backoff: Backoff | None = None,
        driver: SessionDriver | None = None,
    ) -> None:
        self.settings = settings
        self.node_id = settings.node_id
        self.handlers = dict(handlers)
        self.on_connected = on_connected
        self.backoff = backoff or Backoff(settings.reconnect_min_s, settings.reconnect_max_s)
        self.connected = threading.Event()
        self.connects = 0
        self.driver: SessionDriver = driver or OwnThread()
        # set when the link goes away on purpose (its disconnect is not worth a warning)
        self.stopping = threading.Event()
        # MQTT 5 topic aliases for the topics published again and again (the heartbeat):
        # after the first PUBLISH of a connection names the topic with an alias, the next
        # ones carry only the 3-byte alias (~30 bytes less each, whatever the node id)
        self.alias_topics: tuple[str, ...] = (topics.node_heartbeat(settings.node_id),)
        self._alias_max = 0  # what the broker allows on this connection (CONNACK)
        self._aliased: dict[str, int] = {}  # topic -> alias, named on this connection
        self._alias_lock = threading.Lock()
        # QoS 1 messages sent and not yet acknowledged, with when they went (oldest first):
        # a PUBACK missing for user_timeout_s means the way back is dead (see unanswered)
        self._awaiting: list[tuple[float, mqtt.MQTTMessageInfo]] = []
        self._awaiting_lock = threading.Lock()
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"loa-agent-{s.node_id}",
            protocol=mqtt.MQTTv5,
        )
        if s.mqtt_username:
            password = s.mqtt_password.get_secret_value() if s.mqtt_password else None
            client.username_pw_set(s.mqtt_username, password)
        if s.ca_file is not None:
            client.tls_set(ca_certs=str(s.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.will_set(topics.node_status(s.node_id), b"offline", qos=1, retain=True)
        client.max_queued_messages_set(1000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_socket_open = self._on_socket_open
        return client

    # -- paho callbacks (network thread) -------------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        if getattr(rc, "is_failure", False):
            log.warning("broker refused connection: %s", rc)
            return
        self.backoff.reset()
        self.connects += 1
        self._reset_aliases(_p)
        now = time.monotonic()
        queued = getattr(client, "_out_messages", {})  # what paho will send again now
        with self._awaiting_lock:  # their clocks start again; forget what paho dropped
            self._awaiting = [
                (now, i) for _t, i in self._awaiting if not i.is_published() and i.mid in queued
            ]
        client.publish(topics.node_status(self.node_id), b"online", qos=1, retain=True)
        client.subscribe([(topic, 1) for topic in self.handlers])
        self.connected.set()
        log.info("connected to %s:%d", self.settings.mqtt_host, self.settings.mqtt_port)
        if self.on_connected is not None:
            self.on_connected()

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        self.connected.clear()
        if not self.stopping.is_set():
            log.warning("disconnected from broker: %s", rc)

    def _on_socket_open(self, _c: mqtt.Client, _u: object, sock: object) -> None:
        """Set ``TCP_USER_TIMEOUT`` on the new connection (before CONNECT goes out).

        Idle, the node sends QoS 0 signs of life that nothing answers above TCP; on a link
        that died silently they stay unacknowledged, and without this option the kernel
        retransmits for ~15 minutes before giving up. With it, the connection fails after
        ``user_timeout_s`` and the driver reconnects - no extra byte on a healthy link.
        Linux only; elsewhere (or on a wrapped socket) paho's keep-alive remains."""
        timeout_ms = int(self.settings.user_timeout_s * 1000)
        option = getattr(socket, "TCP_USER_TIMEOUT", None)
        setsockopt = getattr(sock, "setsockopt", None)
        if not timeout_ms or option is None or setsockopt is None:
            return
        try:
            setsockopt(socket.IPPROTO_TCP, option, timeout_ms)
        except OSError as exc:  # not a TCP socket (unix transport): nothing to time out
            log.debug("TCP_USER_TIMEOUT not set: %s", exc)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        handler = self.handlers.get(message.topic)
        if handler is None:
            return
        try:
            handler(bytes(message.payload))
        except Exception:  # a handler bug must not kill the network loop
            log.exception("handler for %s failed", message.topic)

    # -- used by the driver ----------------------------------------------------------------
    def connect_once(self) -> None:
        """Open the TCP link and send CONNECT (raises OSError/ValueError when it cannot)."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.settings.session_expiry_s
        self.client.connect(
            self.settings.mqtt_host,
            self.settings.mqtt_port,
            keepalive=self.settings.keepalive_s,
            clean_start=False,
            properties=props,
        )

    def retry_delay(self, why: str) -> float:
        """The next backoff delay after a failed connect or a lost link (logged with why)."""
        delay = self.backoff.next_delay()
        log.info("%s; retrying in %.1fs", why, delay)
        return delay

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> bool:
        if not self.connected.is_set():
            return False
        with self._alias_lock:  # not held into paho: its network thread may want it
            wire_topic, props = self._alias(topic)
        info = self.client.publish(wire_topic, payload, qos=qos, retain=retain, properties=props)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        if qos:
            with self._awaiting_lock:
                self._awaiting.append((time.monotonic(), info))
        self._note_sent()
        return True

    def unanswered(self, now: float) -> bool:
        """True when a QoS 1 message has waited longer than ``user_timeout_s`` for its
        PUBACK. The kernel's TCP_USER_TIMEOUT only sees the next hop's TCP ACKs; this sees
        the broker itself (a relay or proxy that still ACKs, a broker that stopped
        answering). Idle, that is the QoS 1 sign of life every ``heartbeat_confirm_every``."""
        limit = self.settings.user_timeout_s
        with self._awaiting_lock:
            while self._awaiting and self._awaiting[0][1].is_published():
                self._awaiting.pop(0)
            return bool(limit) and bool(self._awaiting) and now - self._awaiting[0][0] > limit

    def drop_link(self, why: str) -> None:
        """End a connection that is dead but not closed: the driver reads the closed socket,
        reports the link lost and reconnects (no DISCONNECT: the Last Will stays armed)."""
        log.warning("dropping the MQTT link: %s", why)
        shutdown = getattr(self.client.socket(), "shutdown", None)
        if shutdown is not None:
            with contextlib.suppress(OSError):
                shutdown(socket.SHUT_RDWR)

    def _alias(self, topic: str) -> tuple[str, Properties | None]:
        """The topic to put on the wire and the properties naming its alias (see __init__)."""
        if topic not in self.alias_topics or not self._alias_max:
            return topic, None
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        known = self._aliased.get(topic)
        if known is not None:
            props.TopicAlias = known
            return "", props
        if len(self._aliased) >= self._alias_max:
            return topic, None
        alias = len(self._aliased) + 1
        props.TopicAlias = alias
        self._aliased[topic] = alias
        return topic, props

    def _reset_aliases(self, connack: object) -> None:
        """A new connection knows no alias: forget ours, read how many the broker allows,
        and give the messages paho will resend now (unacknowledged QoS 1) their topic back -
        an alias without a topic on a fresh connection is a protocol error. Guarded like
        ``_note_sent``: without paho's ``_out_messages`` no alias is ever used."""
        queued = getattr(self.client, "_out_messages", None)
        mutex = getattr(self.client, "_out_message_mutex", None)
        allowed = getattr(connack, "TopicAliasMaximum", 0)
        with self._alias_lock:
            by_alias = {alias: topic for topic, alias in self._aliased.items()}
            self._aliased = {}
            self._alias_max = 0
        if queued is None or mutex is None:
            return
        with mutex:
            for mid, message in list(queued.items()):
                alias = getattr(getattr(message, "properties", None), "TopicAlias", None)
                if alias is None:
                    continue
                if not getattr(message, "_topic", b""):
                    if alias not in by_alias:
                        del queued[mid]  # cannot be named again: a lost sign of life
                        continue
                    message._topic = by_alias[alias].encode()
                message.properties = None
        with self._alias_lock:
            self._alias_max = min(int(allowed or 0), len(self.alias_topics))

    def _note_sent(self) -> None:
        """Tell paho's keep-alive clock that something went out.

        paho 2.x sends a PINGREQ every keep-alive period unless ``_last_msg_out`` moved, and
        a publish does not move it. On a paid mobile link the node's periodic QoS 1
        heartbeat (answered by a PUBACK) already proves the link both ways, so the extra
        PINGREQ/PINGRESP (~160 wire bytes each) would be waste. Guarded: if a paho release
        renames the field, this does nothing and paho pings as before
        (tests/integration/agent/test_keepalive_pings.py notices).
        """
        mutex = getattr(self.client, "_msgtime_mutex", None)
        if mutex is None or not hasattr(self.client, "_last_msg_out"):
            return
        with mutex:
            self.client._last_msg_out = time.monotonic()

    def mark_stopping(self) -> None:
        """The link is going away on purpose: its disconnect is not worth a warning."""
        self.stopping.set()

    def start(self) -> None:
        """Connect and keep connected (on the driver: by default a thread of its own)."""
        self.driver.attach(self)

    def stop(self, timeout: float = 3.0) -> None:
        """Say ``offline`` (a clean disconnect does not fire the Last Will) and disconnect."""
        if self.connected.is_set():
            info = self.client.publish(
                topics.node_status(self.node_id), b"offline", qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self.stopping.set()
        self.driver.detach(self, timeout)
        self.connected.clear()
