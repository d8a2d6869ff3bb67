"""The field bench's packet names: each IP packet of the idle window is told apart by its TCP
flags and the MQTT control packets it carries, and summed per kind with its full size."""

from __future__ import annotations

import struct

from loadsim.bench._wire import Packet, breakdown, classify

BROKER = 1883


def _segment(payload: bytes, flags: int = 0x18, up: bool = True, options: int = 12) -> Packet:
    """An IPv4 + TCP (with ``options`` bytes of options) packet, node -> broker if ``up``."""
    sport, dport = (40000, BROKER) if up else (BROKER, 40000)
    tcp_len = 20 + options
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, (tcp_len // 4) << 4, flags, 500, 0, 0)
    tcp += b"\x01" * options
    total = 20 + tcp_len + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 6, 0, b"\n\0\0\2", b"\n\0\0\1")
    raw = ip + tcp + payload
    return Packet(0.0, "up" if up else "down", len(raw), raw[:200])


def _publish(topic: bytes, payload: bytes, props: bytes = b"") -> bytes:
    body = struct.pack("!H", len(topic)) + topic + b"\x00\x07" + bytes([len(props)]) + props
    body += payload
    return bytes([0x32, len(body)]) + body


def test_kinds_by_flags_and_mqtt_type() -> None:
    heartbeat = _publish(b"loa/v1/node/n1/heartbeat", b"\xa0")
    assert classify(_segment(heartbeat), BROKER) == "publish:heartbeat"
    aliased = _publish(b"", b"\xa0", props=b"\x23\x00\x01")
    assert classify(_segment(aliased), BROKER) == "publish:alias"
    assert classify(_segment(b"\x40\x02\x00\x07", up=False), BROKER) == "puback"
    assert classify(_segment(b"\xc0\x00"), BROKER) == "pingreq"
    assert classify(_segment(b"\xd0\x00", up=False), BROKER) == "pingresp"
    assert classify(_segment(b"", flags=0x10), BROKER) == "tcp-ack"
    assert classify(_segment(b"", flags=0x11), BROKER) == "tcp-fin"
    assert classify(_segment(b"", flags=0x02), BROKER) == "tcp-syn"
    # two MQTT packets in one segment (a PUBACK riding with a PUBLISH)
    both = b"\x40\x02\x00\x07" + _publish(b"loa/v1/node/n1/cmd", b"{}")
    assert classify(_segment(both, up=False), BROKER) == "puback+publish:cmd"
    assert classify(_segment(b"GET / HTTP/1.1\r\n"), 8080) == "tcp-data"


def test_breakdown_sums_sizes_per_way_and_kind() -> None:
    ack = _segment(b"", flags=0x10)
    beat = _segment(_publish(b"", b"\xa0", props=b"\x23\x00\x01"))
    puback = _segment(b"\x40\x02\x00\x07", up=False)
    rows = breakdown([beat, puback, ack, beat, puback, ack], BROKER)
    assert beat.size == 52 + 11 and puback.size == 56 and ack.size == 52
    assert rows["up publish:alias"] == {"count": 2, "bytes": 126, "sizes": [63]}
    assert rows["down puback"]["bytes"] == 112 and rows["up tcp-ack"]["count"] == 2
    assert rows["total_bytes"] == 2 * (63 + 56 + 52)
