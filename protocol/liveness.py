"""Liveness on a paid link: what a sign of life costs, and how long a silence may last.

Both sides use this module, so the agent's promise and the controller's patience agree:

- the agent sends a heartbeat at least every ``interval`` seconds (the planner's longest
  gap) and announces it (``next_within_s``). Liveness needs only bytes from the node, so the
  routine sign of life goes QoS 0 (a PUBLISH and the broker's pure TCP ACK); every
  ``confirm_every``-th one goes QoS 1, and its PUBACK proves the way back to the node;
- the agent's MQTT keep-alive is just above that QoS 1 period (:func:`keepalive_for`), so
  paho sends no PINGREQ (it pings when nothing was written *or* nothing was read for a
  keep-alive); a link that dies silently is found sooner by the kernel: with
  ``TCP_USER_TIMEOUT`` (:func:`user_timeout_s`) a sign of life left unacknowledged kills the
  connection and the agent reconnects, at no byte cost;
- the controller marks the node offline after :func:`silence_allowed_s` of silence, or at
  once when the broker publishes its Last Will (a clean disconnect, a reset link, or no byte
  for 1.5 x keep-alive), whichever comes first. The silence rule is the quick one.

The wire arithmetic (:func:`exchange_bytes`, :func:`idle_bytes_per_month`) is the model the
trade-off table in docs/weak-links.md is computed from; ``loa bench field`` measures it.
"""

from __future__ import annotations

import math

MONTH_S = 30 * 24 * 3600
# IPv4 (20) + TCP (20) + the timestamp option Linux puts on every segment (12)
TCP_IP_HEADER = 52
TCP_IP_HEADER_NO_TIMESTAMPS = 40
PUBACK_MQTT = 4  # MQTT 5 PUBACK, success: type, length, packet id (reason code omitted)

# the controller's slack on top of the announced interval: the agent's loop waking late, a
# segment retransmitted on a lossy link (RTO >= 200 ms, doubling), the ingest batch
SILENCE_GRACE_S = 15.0
SILENCE_GRACE_SHARE = 1 / 8  # ... or this share of the interval, if larger
KEEPALIVE_MARGIN_S = 3.0  # a round trip on a slow, lossy link and a late loop (labs, tests)
KEEPALIVE_MARGIN_SHARE = 1 / 8
LEGACY_KEEPALIVE_S = 60  # agents that send a full heartbeat every interval (QoS 0)
LWT_FACTOR = 1.5  # MQTT: the broker gives up after 1.5 x the keep-alive without a byte


CONFIRM_EVERY = 10  # every 10th sign of life goes QoS 1 (10 min at the 60 s default)
USER_TIMEOUT_FACTOR = 2.0  # unacknowledged data for 2 gaps: the link is dead


def spacing_s(interval_s: float, check_s: float | None = None) -> float:
    """The actual gap between two signs of life: the agent looks every ``check_s`` and sends
    at the look nearest ``interval_s`` (agent.heartbeat), so up to half a look later."""
    if not check_s or check_s <= 0:
        return interval_s
    return max(interval_s, math.ceil((interval_s - check_s / 2) / check_s) * check_s)


def keepalive_for(interval_s: float, confirm_every: int = 1, check_s: float | None = None) -> int:
    """The MQTT keep-alive for a node that sends every ``interval_s`` and gets an answer
    (a PUBACK) every ``confirm_every`` heartbeats: just above that answered period, so paho
    sends no PINGREQ (it pings after a keep-alive without a byte *read*), and no larger.
    The margin covers the loop's lateness and a round trip on a slow, lossy link."""
    period = spacing_s(interval_s, check_s) * max(1, confirm_every)
    margin = max(KEEPALIVE_MARGIN_S, period * KEEPALIVE_MARGIN_SHARE)
    return max(5, math.ceil(period + margin))


def user_timeout_s(interval_s: float) -> float:
    """``TCP_USER_TIMEOUT`` for the agent's MQTT socket: a sign of life (sent every
    ``interval_s``) that the broker's kernel has not acknowledged this long means a dead link:
    the kernel drops the connection and the agent reconnects."""
    return USER_TIMEOUT_FACTOR * interval_s


def silence_allowed_s(
    announced_s: float | None, legacy_interval_s: float, grace_s: float = SILENCE_GRACE_S
) -> float:
    """How long a node may be silent before it counts as offline: the interval it announced
    plus a grace; at least two of the controller's intervals (older agents announce nothing
    and send every interval)."""
    base = 2 * legacy_interval_s
    valid = isinstance(announced_s, int | float) and not isinstance(announced_s, bool)
    if not valid or announced_s is None or announced_s <= 0:
        return base
    announced = float(announced_s)
    return max(base, announced + max(grace_s, announced * SILENCE_GRACE_SHARE))


def detection_bound_s(
    interval_s: float, legacy_interval_s: float = 30.0, check_every_s: float = 15.0
) -> float:
    """The longest a silently dead node (no FIN, no RST) shows online: the allowed silence
    after its last heartbeat plus one period of the controller's liveness check."""
    return silence_allowed_s(interval_s, legacy_interval_s) + check_every_s


def lwt_after_s(interval_s: float, confirm_every: int = 1, check_s: float | None = None) -> float:
    """When the broker's Last Will fires for a silently dead node, after its last packet."""
    return LWT_FACTOR * keepalive_for(interval_s, confirm_every, check_s)


def _varint_len(value: int) -> int:
    return 1 if value < 128 else 2 if value < 16384 else 3 if value < 2_097_152 else 4


def publish_bytes(topic_len: int, payload_len: int, qos: int = 1, props_len: int = 0) -> int:
    """An MQTT 5 PUBLISH on the wire: fixed header, topic, packet id, properties, payload."""
    body = 2 + topic_len + (2 if qos else 0) + _varint_len(props_len) + props_len + payload_len
    return 1 + _varint_len(body) + body


def exchange_bytes(
    topic_len: int, payload_len: int, header: int = TCP_IP_HEADER, props_len: int = 0
) -> int:
    """One QoS 1 heartbeat round on the wire: the PUBLISH segment, the broker's PUBACK (which
    also acknowledges the PUBLISH at the TCP level) and the node's pure TCP ACK of it."""
    publish = header + publish_bytes(topic_len, payload_len, 1, props_len)
    return publish + (header + PUBACK_MQTT) + header


def qos0_exchange_bytes(
    topic_len: int, payload_len: int, header: int = TCP_IP_HEADER, props_len: int = 0
) -> int:
    """One QoS 0 sign of life on the wire: the PUBLISH segment and the broker's (delayed)
    pure TCP ACK - two segments instead of three, and no packet id."""
    return header + publish_bytes(topic_len, payload_len, 0, props_len) + header


def mixed_exchange_bytes(
    topic_len: int,
    payload_len: int,
    confirm_every: int = CONFIRM_EVERY,
    header: int = TCP_IP_HEADER,
    props_len: int = 0,
) -> float:
    """The mean wire cost of a sign of life when every ``confirm_every``-th is QoS 1."""
    n = max(1, confirm_every)
    qos0 = qos0_exchange_bytes(topic_len, payload_len, header, props_len)
    qos1 = exchange_bytes(topic_len, payload_len, header, props_len)
    return ((n - 1) * qos0 + qos1) / n


def idle_bytes_per_month(
    interval_s: float,
    exchange: float,
    full_every_s: float = 3600.0,
    full_extra: int = 0,
) -> float:
    """Idle bytes in 30 days: one exchange per interval, plus the extra of a full snapshot
    (its larger payload, and a second segment when it does not fit one) every
    ``full_every_s``."""
    return MONTH_S / interval_s * exchange + MONTH_S / full_every_s * full_extra
