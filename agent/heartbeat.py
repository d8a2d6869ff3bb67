"""What a heartbeat carries and when it goes: little and rarely while nothing changes.

On a prepaid mobile SIM a full JSON heartbeat every 30 s was most of a node's idle bill
(~47 MB a month). The planner instead:

- looks every ``check_s`` seconds (local work, no bytes) and sends *at once* when something
  the operators care about changed (volume, amplifier, current item, playlist, cache, clock
  sync, address, version, outbox); a measured value that moved by more than its threshold
  (load, temperature, memory, disk, clock offset) goes with the next QoS 1 heartbeat (at
  most ``confirm_every`` intervals later), and noise below the threshold is not sent at all;
- sends only the fields that changed (a *delta*, ``delta: true``), and a full snapshot
  after every (re)connect, every ``full_every_s`` and when the controller asks;
- when nothing changed for ``max_interval_s`` since the last heartbeat, sends a sign of
  life. News does not shorten the rhythm afterwards: it went out at once already, and every
  extra exchange costs bytes. Full snapshots say ``next_within_s``, so the controller's
  offline rule knows how long a silence is normal (protocol/liveness.py);
- chooses the QoS (:attr:`HeartbeatPlanner.qos`): news and full snapshots go QoS 1 (they
  must arrive); a sign of life only has to reach the controller, so it goes QoS 0 (a PUBLISH
  and the broker's TCP ACK, ~113 wire bytes instead of ~171), except every ``confirm_every``-th
  one since the last QoS 1 heartbeat: its PUBACK proves the way back to the node (and
  satisfies paho's keep-alive, which is set just above that period).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# a measured value is news only when it moved by at least max(absolute, relative x old)
# since it was last sent (load on a busy Pi wanders by more than 0.5 from minute to minute)
THRESHOLDS: dict[str, tuple[float, float]] = {
    "load1": (1.0, 0.5),
    "mem_used_pct": (5.0, 0.0),
    "cpu_temp_c": (3.0, 0.0),
    "disk_free_mb": (100.0, 0.05),
    "clock_offset_ms": (25.0, 0.0),
    "link_quality": (10.0, 0.0),
    "cache_bytes": (1_000_000.0, 0.0),
}
# carried in full snapshots only: they change on every look and nobody waits for them
FULL_ONLY = frozenset({"uptime_s"})


@dataclass(frozen=True)
class HeartbeatPolicy:
    check_s: float = 30.0
    max_interval_s: float = 180.0
    full_every_s: float = 6 * 3600.0
    delta: bool = True
    confirm_every: int = 10  # a QoS 1 heartbeat at least every this many intervals


def changed_fields(
    last: dict[str, Any],
    fields: dict[str, Any],
    thresholds: dict[str, tuple[float, float]] = THRESHOLDS,
) -> dict[str, Any]:
    """The fields of ``fields`` that differ from ``last`` by more than their threshold."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key in FULL_ONLY:
            continue
        old = last.get(key)
        limit = thresholds.get(key)
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if limit is not None and numeric and isinstance(old, int | float):
            absolute, relative = limit
            if abs(value - old) >= max(absolute, relative * abs(old)):
                out[key] = value
        elif value != old or key not in last:
            out[key] = value
    return out


class HeartbeatPlanner:
    """Decides, on each look, whether to send and what (pure: the caller gives the time)."""

    def __init__(self, policy: HeartbeatPolicy) -> None:
        self.policy = policy
        self._sent: dict[str, Any] = {}  # what the controller has, field by field
        self._last_send = float("-inf")
        self._last_full = float("-inf")
        self._want_full = True
        self._unconfirmed = 0  # QoS 0 signs of life since the last QoS 1 heartbeat
        self.qos = 1  # of the heartbeat the last plan() returned

    def request_full(self) -> None:
        """After a (re)connect or when the controller asks: the next look sends everything."""
        self._want_full = True

    @property
    def interval_s(self) -> float:
        """The longest gap between two heartbeats (news goes out sooner)."""
        return self.policy.max_interval_s if self.policy.delta else self.policy.check_s

    def plan(self, now: float, fields: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
        """``(fields to send, is_delta)`` if a heartbeat is due now, else None."""
        p = self.policy
        full = self._want_full or not p.delta or now - self._last_full >= p.full_every_s
        news = changed_fields(self._sent, fields)
        # a measured value that moved (memory, load, temperature ...) is reported, but rides
        # on the next due heartbeat: nobody acts on it within two minutes, and on a busy node
        # such moves every few minutes would double the idle bill. State changes go at once.
        urgent = any(key not in THRESHOLDS for key in news)
        # due at the look nearest the interval: a look that comes a little early (the last
        # send was timed after a slow health read, this look before one) must not push the
        # sign of life a whole look later, past the MQTT keep-alive (a PINGREQ) and the gap
        # the controller was promised
        due = now - self._last_send >= self.interval_s - p.check_s / 2
        if not full and not urgent and not due:
            return None
        self._last_send = now
        # counted, not timed: the keep-alive is derived from confirm_every x the spacing of
        # signs of life (protocol.liveness.keepalive_for)
        confirm = self._unconfirmed + 1 >= max(1, p.confirm_every)
        if not full and not urgent and not confirm:
            # measured values ride on the next QoS 1 heartbeat (at most confirm_every gaps,
            # 10 min): a delta of them instead of a 1-byte QoS 0 sign of life would cost ~120
            # wire bytes more each time, and on a busy node they move every few minutes
            news = {}
        self.qos = 1 if full or news or confirm else 0
        self._unconfirmed = 0 if self.qos else self._unconfirmed + 1
        if full:
            self._want_full = False
            self._last_full = now
            self._sent = dict(fields)
            return dict(fields), False
        self._sent.update(news)
        return news, True

    def next_within_s(self) -> float:
        """The longest the controller should expect to wait for the next heartbeat."""
        return self.interval_s
