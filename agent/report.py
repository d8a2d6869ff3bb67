"""Reporting out: heartbeats and the outbox of events (at least once).

Events leave the outbox only when the controller acknowledges their sequence numbers; until
then they are re-sent after every reconnect and every ``resend_s`` seconds. The controller
stores each ``(node, seq)`` once, so re-sending is always safe.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from agent.heartbeat import HeartbeatPlanner, HeartbeatPolicy
from agent.outbox import Outbox
from agent.stepping import Runner, Stepper
from protocol import topics
from protocol.clock import Clock
from protocol.codec import MAX_SMALL_PAYLOAD_BYTES, decode, encode
from protocol.compact import SIGN_OF_LIFE, encode_model
from protocol.errors import ProtocolError
from protocol.models import EventAck, EventBatch, Heartbeat

log = logging.getLogger(__name__)

BATCH_MAX = 500


class Publisher(Protocol):
    def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> bool:
        """Hand a message to the transport; False when not connected."""
        ...


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def collect_health(data_dir: Path) -> dict[str, Any]:
    """A best-effort snapshot from /proc and /sys; missing sources become None."""
    health: dict[str, Any] = {}
    if (text := _read("/proc/uptime")) is not None:
        health["uptime_s"] = float(text.split()[0])
    with contextlib.suppress(OSError):
        health["load1"] = os.getloadavg()[0]
    if (text := _read("/proc/meminfo")) is not None:
        info = {}
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts:
                info[key] = float(parts[0])
        if info.get("MemTotal") and "MemAvailable" in info:
            used = 100 * (1 - info["MemAvailable"] / info["MemTotal"])
            health["mem_used_pct"] = round(min(100.0, max(0.0, used)), 1)
    if (text := _read("/sys/class/thermal/thermal_zone0/temp")) is not None:
        with contextlib.suppress(ValueError):
            health["cpu_temp_c"] = int(text.strip()) / 1000
    with contextlib.suppress(OSError):
        health["disk_free_mb"] = round(shutil.disk_usage(data_dir).free / 1e6, 1)
    health["ip"] = _local_ip()
    return health


def _local_ip() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
            ip: str = sock.getsockname()[0]
            return ip
    except OSError:
        return None


class Reporter:
    """One thread for both heartbeats and event delivery."""

    def __init__(
        self,
        node_id: str,
        outbox: Outbox,
        publisher: Publisher,
        clock: Clock,
        heartbeat_interval_s: float,
        resend_s: float,
        heartbeat_fields: Callable[[], dict[str, Any]],
        linger_s: float = 0.0,
        policy: HeartbeatPolicy | None = None,
        compact: bool = False,
    ) -> None:
        self.node_id = node_id
        self.outbox = outbox
        self.publisher = publisher
        self.clock = clock
        self.heartbeat_interval_s = heartbeat_interval_s
        self.resend_s = resend_s
        self.heartbeat_fields = heartbeat_fields
        # None: a full snapshot every interval (the old agent); else deltas on change, see
        # agent.heartbeat. ``compact``: CBOR instead of JSON on the wire.
        self.planner = HeartbeatPlanner(policy) if policy is not None else None
        # numbers full and delta heartbeats, so the controller sees a delta it cannot merge
        self._heartbeat_seq = 0
        self.compact = compact
        self.bad_acks = 0
        self._last_sent_seq = 0
        self._last_full_send = float("-inf")
        self._next_heartbeat = float("-inf")
        self.linger_s = linger_s
        self._send_at = float("inf")  # new events go out then (set by notify)
        self._send_lock = threading.Lock()
        self._runner = Runner("report", self.step)

    def notify(self) -> None:
        """New events were appended: send them after ``linger_s``.

        Waiting a moment lets events that come together (a command's ack and the start it
        caused) share one batch: one MQTT message on a weak link instead of several, and
        one transaction and one ack on the controller.
        """
        with self._send_lock:
            self._send_at = min(self._send_at, self.clock.monotonic() + self.linger_s)
        self._runner.poke()

    def on_connected(self) -> None:
        """After a (re)connect everything unacknowledged goes out again."""
        self._last_full_send = float("-inf")
        self._next_heartbeat = float("-inf")
        if self.planner is not None:
            self.planner.request_full()
        self._runner.poke()

    def request_full_heartbeat(self) -> None:
        """The controller asked for a full snapshot (it lost or never had the last one)."""
        if self.planner is not None:
            self.planner.request_full()
        self._next_heartbeat = float("-inf")
        self._runner.poke()

    def on_ack(self, raw: bytes) -> None:
        try:
            ack = decode(EventAck, raw, MAX_SMALL_PAYLOAD_BYTES)
        except ProtocolError as exc:
            self.bad_acks += 1
            log.warning("event ack rejected: %s", exc.reason)
            return
        if ack.node_id != self.node_id:
            self.bad_acks += 1
            return
        self.outbox.ack(ack.seqs)

    def send_events(self, full: bool) -> int:
        """Publish pending events (all, or only those not sent yet); return how many."""
        after = 0 if full else self._last_sent_seq
        if not full and self.outbox.last_seq <= after:
            return 0  # nothing appended since the last send: no query
        sent = 0
        while True:
            events = self.outbox.pending(BATCH_MAX, after_seq=after)
            if not events:
                return sent
            batch = EventBatch(node_id=self.node_id, sent_at=self.clock.now(), events=events)
            if not self.publisher.publish(topics.node_events(self.node_id), encode(batch), 1):
                return sent
            after = events[-1].seq
            self._last_sent_seq = max(self._last_sent_seq, after)
            sent += len(events)
            if len(events) < BATCH_MAX:
                return sent  # that was all of it

    def send_heartbeat(self) -> bool:
        """Send a heartbeat if one is due (always, without a planner); True when sent."""
        fields = self.heartbeat_fields()
        fields["outbox_pending"] = self.outbox.count()
        qos = 0
        if self.planner is not None:
            planned = self.planner.plan(self.clock.monotonic(), fields)
            if planned is None:
                return False
            fields, is_delta = planned
            if is_delta and not fields and self.compact:
                # nothing changed: the sign of life is an empty map (1 byte; the topic names
                # the node and the controller stamps the time it arrived)
                topic = topics.node_heartbeat(self.node_id)
                return self.publisher.publish(topic, SIGN_OF_LIFE, self.planner.qos)
            self._heartbeat_seq += 1
            fields["seq"] = self._heartbeat_seq
            if is_delta:
                fields["delta"] = True  # the controller keeps next_within_s from the full one
            else:
                fields["next_within_s"] = self.planner.next_within_s()
            # news and full snapshots QoS 1 (they must arrive); a sign of life QoS 0 but
            # every confirm_every-th, whose PUBACK proves the way back (agent.heartbeat)
            qos = self.planner.qos
        sent_at = self.clock.now()
        if self.compact:  # whole seconds: 7 fewer bytes each time, and enough for a heartbeat
            sent_at = sent_at.replace(microsecond=0)
        heartbeat = Heartbeat(node_id=self.node_id, sent_at=sent_at, **fields)
        payload = encode_model(heartbeat, only_set=True) if self.compact else encode(heartbeat)
        return self.publisher.publish(topics.node_heartbeat(self.node_id), payload, qos)

    def step(self) -> float:
        """Send what is due; return seconds until the next thing is due."""
        now = self.clock.monotonic()
        if now >= self._next_heartbeat:
            try:
                self.send_heartbeat()
            except (ValueError, OSError) as exc:
                log.warning("heartbeat not sent: %s", exc)
            self._next_heartbeat = now + (
                self.planner.policy.check_s if self.planner else self.heartbeat_interval_s
            )
        full = now - self._last_full_send >= self.resend_s
        with self._send_lock:
            # no notify pending (inf): send whatever is new at once; else wait for the linger
            due = full or now >= self._send_at or self._send_at == float("inf")
            if due:
                self._send_at = float("inf")
        if due:
            self.send_events(full)
        if full:
            self._last_full_send = now
        with self._send_lock:
            send_at = self._send_at
        next_due = min(self._next_heartbeat, self._last_full_send + self.resend_s, send_at)
        return max(0.0, next_due - now)

    def start(self, stepper: Stepper | None = None) -> None:
        self._runner.start(stepper)

    def stop(self) -> None:
        self._runner.stop()
