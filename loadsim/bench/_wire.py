"""What each IP packet on the field link is: the idle bill broken down by packet kind.

Underscore module: not a benchmark itself (discovery skips it). :class:`SlowLink` keeps the
first bytes of every packet when asked (``trace=True``); :func:`breakdown` names each one
(a TCP segment without payload is ``tcp-ack`` / ``tcp-syn`` / ``tcp-fin`` / ``tcp-rst``; a
segment to or from the MQTT port is named by the MQTT control packets it carries, a PUBLISH
by its topic's last level, e.g. ``publish:heartbeat``; anything else on TCP is ``tcp-data``,
e.g. HTTP) and sums count and wire bytes (IP + TCP headers included) per kind and direction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SNAP = 200  # bytes kept per packet: IP + TCP headers (<= 120) + the MQTT head and topic

MQTT_TYPES = {
    1: "connect", 2: "connack", 3: "publish", 4: "puback", 5: "pubrec", 6: "pubrel",
    7: "pubcomp", 8: "subscribe", 9: "suback", 10: "unsubscribe", 11: "unsuback",
    12: "pingreq", 13: "pingresp", 14: "disconnect", 15: "auth",
}  # fmt: skip


@dataclass(frozen=True)
class Packet:
    """One packet that entered the link: when, which way (``up`` = node -> host), its full
    size and its first :data:`SNAP` bytes."""

    at: float
    way: str
    size: int
    head: bytes


def _varint(data: bytes, pos: int) -> tuple[int, int] | None:
    """MQTT's variable byte integer at ``pos``: (value, position after it)."""
    value, shift = 0, 0
    for _ in range(4):
        if pos >= len(data):
            return None
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    return None


def _mqtt_kinds(payload: bytes, payload_len: int) -> list[str]:
    """The MQTT control packets a TCP payload starts with (as far as the snapshot shows)."""
    kinds: list[str] = []
    pos = 0
    while pos < min(len(payload), payload_len):
        kind = MQTT_TYPES.get(payload[pos] >> 4, "mqtt?")
        parsed = _varint(payload, pos + 1)
        if parsed is None:
            kinds.append(kind)
            break
        length, body = parsed
        if kind == "publish" and body + 2 <= len(payload):
            topic_len = int.from_bytes(payload[body : body + 2], "big")
            topic = payload[body + 2 : body + 2 + topic_len].decode("ascii", "replace")
            kind += ":" + (topic.rsplit("/", 1)[-1] if topic else "alias")
        kinds.append(kind)
        pos = body + length
    return kinds or ["mqtt?"]


def classify(packet: Packet, mqtt_port: int) -> str:
    """A short name for what ``packet`` is (see the module doc)."""
    head = packet.head
    if head and head[0] >> 4 == 6:
        return "ipv6"
    if len(head) < 20 or head[0] >> 4 != 4:
        return "non-ip"
    ihl = (head[0] & 0x0F) * 4
    if head[9] != 6:
        return "ip-proto-" + str(head[9])
    tcp = head[ihl:]
    if len(tcp) < 20:
        return "tcp?"
    sport, dport = int.from_bytes(tcp[0:2], "big"), int.from_bytes(tcp[2:4], "big")
    offset = (tcp[12] >> 4) * 4
    flags = tcp[13]
    payload_len = packet.size - ihl - offset
    if flags & 0x04:
        return "tcp-rst"
    if flags & 0x02:
        return "tcp-syn"
    if payload_len <= 0:
        return "tcp-fin" if flags & 0x01 else "tcp-ack"
    if mqtt_port in (sport, dport):
        return "+".join(_mqtt_kinds(tcp[offset:], payload_len))
    return "tcp-data"


def breakdown(packets: Iterable[Packet], mqtt_port: int) -> dict[str, Any]:
    """``{"<way> <kind>": {"count", "bytes", "sizes"}}`` sorted by bytes, plus the total."""
    rows: dict[str, dict[str, Any]] = {}
    total = 0
    for packet in packets:
        key = f"{packet.way} {classify(packet, mqtt_port)}"
        row = rows.setdefault(key, {"count": 0, "bytes": 0, "sizes": set()})
        row["count"] += 1
        row["bytes"] += packet.size
        row["sizes"].add(packet.size)
        total += packet.size
    ordered = sorted(rows.items(), key=lambda kv: -int(kv[1]["bytes"]))
    out: dict[str, Any] = {k: {**v, "sizes": sorted(v["sizes"])[:6]} for k, v in ordered}
    out["total_bytes"] = total
    return out
