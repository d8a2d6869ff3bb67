"""2,000 command acks arriving at once, while the controller issues more commands: every ack
is stored exactly once and acknowledged, every command is stored, and nothing logs an error.

This is the ``loa bench fanout`` failure made small. On the loaded benchmark machine the
controller held SQLite's write lock for its ack writes longer than the 10 s busy timeout, and
the next command it issued failed with ``database is locked``. On a quiet machine the same
writes take well under a second, so the test shortens the busy timeout to 50 ms: the same
regime (a writer holds the lock longer than the other writer will wait), reached in seconds.
The product must then wait its turn and retry, never fail or drop a write.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select
from support.api_client import controller_settings
from support.processes import wait_until

from controller.bridge.ingest import DEFAULT_MAX_BATCH
from controller.broker.process import MosquittoProcess
from controller.db.models import CommandDelivery, Node, PlaybackEvent, Zone
from controller.services.commands import IssuedCommand, issue_command
from controller.services.container import Controller
from protocol import topics
from protocol.codec import decode, encode
from protocol.models import CommandAction, EventAck, EventBatch, EventKind
from protocol.models import PlaybackEvent as EventMsg

pytestmark = pytest.mark.integration
T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
ZONE = "xa-flood"
NODES = [f"flood-{i:04d}" for i in range(2000)]
CLIENTS = 40  # MQTT connections, each speaking for 50 nodes


@pytest.fixture
def ctl(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Controller]:
    settings = controller_settings(
        tmp_path, mosquitto, scheduler_enabled=False, database_busy_timeout_s=0.05
    )
    controller = Controller.build(settings)
    with controller.sessions.begin() as s:
        s.add(Zone(id=ZONE, name=ZONE, created_at=T0))
        s.flush()
        s.add_all(Node(id=n, name=n, zone_id=ZONE, created_at=T0) for n in NODES)
    controller.start()
    yield controller
    controller.stop()


class AckingNodes:
    """One MQTT client speaking for a slice of the nodes: acks a command for each of them."""

    def __init__(self, broker: MosquittoProcess, index: int, nodes: list[str]) -> None:
        self.nodes = nodes
        self.acked: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        subscribed = threading.Event()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"flood-{index}", protocol=mqtt.MQTTv5
        )
        client.on_message = self._on_ack
        client.on_subscribe = lambda *_a: subscribed.set()
        client.connect(broker.host, broker.port)
        client.loop_start()
        client.subscribe([(topics.node_events_ack(n), 1) for n in nodes])
        assert subscribed.wait(10)
        self.client = client

    def _on_ack(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        ack = decode(EventAck, msg.payload)
        with self._lock:
            self.acked.setdefault(ack.node_id, []).extend(ack.seqs)

    def send(self, command_id: str) -> None:
        infos = []
        for node in self.nodes:
            event = EventMsg(seq=1, kind=EventKind.COMMAND_ACK, at=T0, command_id=command_id)
            batch = EventBatch(node_id=node, sent_at=T0, events=[event])
            infos.append(self.client.publish(topics.node_events(node), encode(batch), qos=1))
        for info in infos:
            info.wait_for_publish(30)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _issue_stop(ctl: Controller) -> IssuedCommand:
    return issue_command(ctl, action=CommandAction.STOP, zone_id=ZONE, ttl=timedelta(hours=1))


def test_ack_flood_beside_command_issue_stores_every_ack_once(
    ctl: Controller, mosquitto: MosquittoProcess, caplog: pytest.LogCaptureFixture
) -> None:
    first = _issue_stop(ctl)
    assert len(first.node_ids) == len(NODES)
    per_client = len(NODES) // CLIENTS
    fleet = [
        AckingNodes(mosquitto, i, NODES[i * per_client : (i + 1) * per_client])
        for i in range(CLIENTS)
    ]

    def all_acked() -> bool:
        return sum(len(f.acked) for f in fleet) == len(NODES)

    issued: list[IssuedCommand] = []
    with caplog.at_level(logging.WARNING):
        senders = [threading.Thread(target=f.send, args=(first.command.id,)) for f in fleet]
        for sender in senders:
            sender.start()
        # the controller keeps issuing zone commands (2,000 deliveries each) while the acks
        # are stored: the benchmark's second writer
        while not all_acked() and len(issued) < 40:
            issued.append(_issue_stop(ctl))
        for sender in senders:
            sender.join(60)
        wait_until(all_acked, 60)
    for f in fleet:
        f.close()

    assert all(seqs == [1] for f in fleet for seqs in f.acked.values()), "an ack came twice"
    with ctl.sessions() as s:
        stored = s.execute(
            select(func.count(), func.count(func.distinct(PlaybackEvent.node_id))).where(
                PlaybackEvent.command_id == first.command.id
            )
        ).one()
        states = dict(
            s.execute(
                select(CommandDelivery.state, func.count())
                .where(CommandDelivery.command_id == first.command.id)
                .group_by(CommandDelivery.state)
            ).all()
        )
        later = s.scalar(
            select(func.count()).where(
                CommandDelivery.command_id.in_([c.command.id for c in issued])
            )
        )
    assert tuple(stored) == (len(NODES), len(NODES))
    assert states == {"acked": len(NODES)}
    assert ctl.ingestor.stats.events == len(NODES)
    assert ctl.ingestor.stats.duplicate_events == 0
    # short transactions: at most DEFAULT_MAX_BATCH messages per commit
    assert ctl.ingestor.stats.batches_committed >= len(NODES) // DEFAULT_MAX_BATCH
    assert issued and all(len(c.node_ids) == len(NODES) for c in issued)
    assert later == len(issued) * len(NODES)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
