"""Event delivery: new events go out at once, unacknowledged ones every resend period and
after a reconnect; an ack deletes exactly its seqs. Driven by a FakeClock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.outbox import Outbox
from agent.report import Reporter, collect_health
from protocol import topics
from protocol.clock import FakeClock
from protocol.codec import encode
from protocol.models import EventAck, EventKind

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


class Wire:
    """Collects what the reporter publishes; can pretend the link is down."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list[tuple[str, dict[str, Any], int]] = []

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> bool:
        if not self.up:
            return False
        self.sent.append((topic, json.loads(payload), qos))
        return True

    def batches(self) -> list[list[int]]:
        return [[e["seq"] for e in p["events"]] for t, p, _q in self.sent if t.endswith("/events")]

    def heartbeats(self) -> list[dict[str, Any]]:
        return [p for t, p, _q in self.sent if t.endswith("/heartbeat")]


@pytest.fixture
def rig(tmp_path: Path) -> tuple[Reporter, Outbox, Wire, FakeClock]:
    clock = FakeClock(T0)
    outbox = Outbox(tmp_path / "o.sqlite")
    wire = Wire()
    reporter = Reporter("n1", outbox, wire, clock, 30, 10, lambda: {"volume": 70})
    return reporter, outbox, wire, clock


def test_new_events_go_out_once_then_again_only_after_the_resend_period(
    rig: tuple[Reporter, Outbox, Wire, FakeClock],
) -> None:
    reporter, outbox, wire, clock = rig
    outbox.append(EventKind.STARTED, T0, item_id="a")
    reporter.step()
    outbox.append(EventKind.FINISHED, T0, item_id="a")
    clock.advance(1)
    reporter.step()
    assert wire.batches() == [[1], [2]]
    clock.advance(5)
    reporter.step()
    assert wire.batches() == [[1], [2]]  # nothing new, resend not due
    clock.advance(5)
    reporter.step()
    assert wire.batches() == [[1], [2], [1, 2]]


def test_ack_deletes_exactly_its_seqs_and_stops_resending(
    rig: tuple[Reporter, Outbox, Wire, FakeClock],
) -> None:
    reporter, outbox, wire, clock = rig
    for _ in range(3):
        outbox.append(EventKind.STARTED, T0)
    reporter.step()
    reporter.on_ack(encode(EventAck(node_id="n1", seqs=[1, 3])))
    reporter.on_ack(encode(EventAck(node_id="n2", seqs=[2])))  # not ours: ignored
    reporter.on_ack(b"not json")
    assert reporter.bad_acks == 2
    assert [e.seq for e in outbox.pending()] == [2]
    clock.advance(10)
    reporter.step()
    assert wire.batches()[-1] == [2]


def test_nothing_is_lost_while_the_link_is_down_and_all_goes_out_on_reconnect(
    rig: tuple[Reporter, Outbox, Wire, FakeClock],
) -> None:
    reporter, outbox, wire, clock = rig
    wire.up = False
    for _ in range(3):
        outbox.append(EventKind.MISSED, T0)
        clock.advance(4)
        reporter.step()
    assert wire.batches() == []
    wire.up = True
    reporter.on_connected()
    reporter.step()
    assert wire.batches() == [[1, 2, 3]]


def test_heartbeat_every_interval_with_health_and_outbox_size(
    rig: tuple[Reporter, Outbox, Wire, FakeClock],
) -> None:
    reporter, outbox, wire, clock = rig
    outbox.append(EventKind.STARTED, T0)
    reporter.step()
    clock.advance(29)
    reporter.step()
    clock.advance(1)
    reporter.step()
    beats = wire.heartbeats()
    assert len(beats) == 2
    assert beats[0]["node_id"] == "n1" and beats[0]["volume"] == 70
    assert beats[0]["outbox_pending"] == 1
    qos = {t: q for t, _p, q in wire.sent}
    assert qos[topics.node_heartbeat("n1")] == 0 and qos[topics.node_events("n1")] == 1


def test_health_snapshot_reads_proc(tmp_path: Path) -> None:
    health = collect_health(tmp_path)
    assert health["uptime_s"] > 0
    assert 0 <= health["mem_used_pct"] <= 100
    assert health["disk_free_mb"] > 0


def test_events_notified_within_the_linger_share_one_batch(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    outbox = Outbox(tmp_path / "o.sqlite")
    wire = Wire()
    reporter = Reporter("n1", outbox, wire, clock, 30, 10, dict, linger_s=0.25)
    reporter.step()  # first heartbeat and (empty) full send
    outbox.append(EventKind.COMMAND_ACK, T0, command_id="c1")
    reporter.notify()
    assert reporter.step() == pytest.approx(0.25)
    clock.advance(0.1)
    outbox.append(EventKind.STARTED, T0, item_id="a")
    reporter.notify()  # does not push the send further away
    assert reporter.step() == pytest.approx(0.15)
    assert wire.batches() == []
    clock.advance(0.15)
    reporter.step()
    assert wire.batches() == [[1, 2]]


def test_with_a_policy_heartbeats_are_cbor_deltas_and_signs_of_life_go_qos0(
    tmp_path: Path,
) -> None:
    import cbor2

    from agent.heartbeat import HeartbeatPolicy

    clock = FakeClock(T0)
    fields = {"volume": 70, "uptime_s": 1.0}

    class CborWire(Wire):
        def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> bool:
            self.sent.append((topic, cbor2.loads(payload), qos))
            return True

    wire = CborWire()
    policy = HeartbeatPolicy(check_s=30, max_interval_s=150, full_every_s=1800, confirm_every=3)
    reporter = Reporter(
        "n1", Outbox(tmp_path / "o.sqlite"), wire, clock, 30, 10, lambda: dict(fields),
        policy=policy, compact=True,
    )  # fmt: skip
    reporter.step()
    first = wire.heartbeats()[0]
    assert first["volume"] == 70 and first["next_within_s"] == 150 and "delta" not in first
    assert first["seq"] == 1  # full and delta heartbeats are numbered, signs of life are not
    assert wire.sent[0][2] == 1
    for _ in range(4):  # looks every 30 s: nothing new, no heartbeat before 150 s
        clock.advance(30)
        fields["uptime_s"] += 30
        reporter.step()
    assert len(wire.heartbeats()) == 1
    clock.advance(30)
    reporter.step()  # 150 s: the sign of life
    assert len(wire.heartbeats()) == 2
    assert wire.heartbeats()[1] == {}  # nothing changed: the 1-byte sign of life, QoS 0
    assert wire.sent[-1][2] == 0
    for _ in range(10):  # 300 s more: two signs of life, the 3rd interval's one QoS 1
        clock.advance(30)
        reporter.step()
    assert [q for _t, _p, q in wire.sent] == [1, 0, 0, 1]
    fields["volume"] = 20
    clock.advance(30)
    reporter.step()
    assert wire.heartbeats()[-1] == {
        "node_id": "n1", "sent_at": wire.heartbeats()[-1]["sent_at"], "delta": True,
        "volume": 20, "seq": 2,
    }  # fmt: skip
    assert wire.sent[-1][2] == 1  # news must arrive: QoS 1
    reporter.on_connected()
    reporter.step()
    assert "delta" not in wire.heartbeats()[-1]  # a (re)connect gets a full snapshot
    assert wire.heartbeats()[-1]["seq"] == 3
    fields["volume"] = 30
    reporter.request_full_heartbeat()  # the controller's snapshot is stale (a sync command)
    reporter.step()
    assert "delta" not in wire.heartbeats()[-1] and wire.heartbeats()[-1]["volume"] == 30
