"""Two controller replicas on one PostgreSQL and one broker: shared subscriptions split the
ingestion, exactly one runs the jobs, and a replica SIGKILLed mid-work loses nothing."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select, text
from support.processes import ControllerProcess, wait_until

from controller.broker.process import MosquittoProcess
from controller.db.engine import make_engine
from controller.db.models import PlaybackEvent
from protocol import topics
from protocol.codec import decode, encode
from protocol.models import EventAck, EventBatch, EventKind
from protocol.models import PlaybackEvent as EventMsg

pytestmark = pytest.mark.integration
NODES = [f"n{i}" for i in range(6)]
BATCHES_PER_NODE = 30


class ResendingNode:
    """Publishes event batches for several node ids and resends each until it is acked,
    exactly as the agent's outbox does."""

    def __init__(self, broker: MosquittoProcess) -> None:
        self.pending: dict[tuple[str, int], bytes] = {}
        self.lock = threading.Lock()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fleet-sim", protocol=mqtt.MQTTv5)
        c.on_message = self._on_ack
        c.connect(broker.host, broker.port)
        c.loop_start()
        for node in NODES:
            c.subscribe(topics.node_events_ack(node), qos=1)
        self.client = c

    def _on_ack(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        ack = decode(EventAck, msg.payload)
        with self.lock:
            for seq in ack.seqs:
                self.pending.pop((ack.node_id, seq), None)

    def send(self, node: str, seq: int) -> None:
        now = datetime.now(UTC)
        ev = EventMsg(seq=seq, kind=EventKind.FINISHED, at=now, item_id=f"item-{seq}")
        payload = encode(EventBatch(node_id=node, sent_at=now, events=[ev]))
        with self.lock:
            self.pending[(node, seq)] = payload
        self.client.publish(topics.node_events(node), payload, qos=1)

    def resend_pending(self) -> int:
        with self.lock:
            items = list(self.pending.items())
        for (node, _seq), payload in items:
            self.client.publish(topics.node_events(node), payload, qos=1)
        return len(items)


def lease_holder(url: str) -> str | None:
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT holder FROM leases WHERE name = 'scheduler'")).first()
    engine.dispose()
    return None if row is None else str(row[0])


def test_two_replicas_split_ingest_one_scheduler_and_survive_a_kill(
    tmp_path: Path, mosquitto: MosquittoProcess, postgres_url: str
) -> None:
    common = {"database_url": postgres_url, "lease_ttl_s": "3", "lease_renew_s": "1"}
    a = ControllerProcess(tmp_path / "a", mosquitto.port, mqtt_client_id="replica-a", **common)
    b = ControllerProcess(tmp_path / "b", mosquitto.port, mqtt_client_id="replica-b", **common)
    a.start()
    b.start()
    try:
        holder = wait_until(lambda: lease_holder(postgres_url), 20)
        pids = {str(a.proc.pid): a, str(b.proc.pid): b}  # type: ignore[union-attr]
        owner = next(p for pid, p in pids.items() if f":{pid}:" in holder)
        other = b if owner is a else a

        node = ResendingNode(mosquitto)
        for seq in range(1, BATCHES_PER_NODE // 2 + 1):
            for n in NODES:
                node.send(n, seq)
        wait_until(lambda: not node.pending, 30)
        split = [p.api().get("/api/v1/health").json()["ingest"]["events"] for p in (a, b)]
        assert all(count > 0 for count in split), f"shared subscription did not split: {split}"

        # kill the scheduler's replica in the middle of the second half
        for seq in range(BATCHES_PER_NODE // 2 + 1, BATCHES_PER_NODE + 1):
            for n in NODES:
                node.send(n, seq)
            if seq == BATCHES_PER_NODE * 3 // 4:
                owner.kill()

        def all_acked() -> bool:
            return node.resend_pending() == 0 or (time.sleep(2) is None and False)

        wait_until(all_acked, 60, interval=2)
        engine = make_engine(postgres_url)
        with engine.connect() as conn:
            total = conn.scalar(select(func.count()).select_from(PlaybackEvent))
            distinct = conn.scalar(
                select(func.count()).select_from(
                    select(PlaybackEvent.node_id, PlaybackEvent.seq).distinct().subquery()
                )
            )
        engine.dispose()
        assert total == distinct == len(NODES) * BATCHES_PER_NODE

        # the survivor takes the lease over once the dead holder's lease runs out
        survivor_pid = str(other.proc.pid)  # type: ignore[union-attr]
        wait_until(lambda: f":{survivor_pid}:" in (lease_holder(postgres_url) or ""), 20)
        node.client.loop_stop()
    finally:
        a.stop()
        b.stop()
