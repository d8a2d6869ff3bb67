"""Ingest heartbeats, event batches and status from nodes, in batched transactions.

The MQTT thread only enqueues; one writer thread drains the queue and stores up to
``max_batch`` messages per transaction. Events are inserted with ON CONFLICT DO NOTHING on
(node_id, seq), so a batch resent any number of times is stored once; the ack (all seqs of
the batch) is published only after the commit, so an ack always means "stored".
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from controller.bridge.reject_counter import RejectCounter
from controller.db.models import CommandDelivery, Heartbeat, Node, PlaybackEvent
from protocol import topics
from protocol.clock import Clock
from protocol.codec import MAX_SMALL_PAYLOAD_BYTES, decode, encode
from protocol.compact import SIGN_OF_LIFE, decode_any
from protocol.errors import InvalidMessage, ProtocolError
from protocol.models import EventAck, EventBatch, EventKind
from protocol.models import Heartbeat as HeartbeatMsg

log = logging.getLogger(__name__)

MAX_EVENT_BATCH_BYTES = 512 * 1024
Publish = Callable[[str, bytes], object]


@dataclass
class _Pending:
    heartbeats: list[HeartbeatMsg] = field(default_factory=list)
    batches: list[EventBatch] = field(default_factory=list)
    statuses: dict[str, bool] = field(default_factory=dict)


@dataclass
class IngestStats:
    heartbeats: int = 0
    events: int = 0
    duplicate_events: int = 0
    batches_committed: int = 0


def _insert(session: Session, table: Any) -> sqlite.Insert | postgresql.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class Ingestor:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        publish: Publish,
        clock: Clock,
        rejects: RejectCounter,
        max_batch: int = 2000,
    ) -> None:
        self._sessions = session_factory
        self._publish = publish
        self._clock = clock
        self.rejects = rejects
        self.stats = IngestStats()
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._max_batch = max_batch
        self._thread: threading.Thread | None = None
        self.idle = threading.Event()
        # Told, after each commit, of how old each stored message was ("heartbeat"/"events",
        # seconds from the agent's sent_at): the controller's ingest-lag metric.
        self.observe_lag: Callable[[str, float], None] | None = None

    # called on the MQTT network thread: cheap
    def on_message(self, topic: str, payload: bytes) -> None:
        self.idle.clear()
        self._queue.put((topic, payload))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            raw = [first]
            while len(raw) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._process(raw)
                    return
                raw.append(nxt)
            try:
                self._process(raw)
            except Exception:  # the only writer thread must outlive any bug in one batch
                log.exception("ingesting %d messages failed; agents will resend events", len(raw))
            if self._queue.empty():
                self.idle.set()

    def _parse(self, raw: list[tuple[str, bytes]]) -> _Pending:
        pending = _Pending()
        for topic, payload in raw:
            kind = "unknown"
            try:
                node_id, kind = topics.parse_node_topic(topic)
                if kind == "heartbeat":
                    hb = self._heartbeat(node_id, payload)
                    pending.heartbeats.append(hb)
                elif kind == "events":
                    batch = decode(EventBatch, payload, MAX_EVENT_BATCH_BYTES)
                    self._check_sender(batch.node_id, node_id)
                    pending.batches.append(batch)
                elif kind == "status":
                    text = payload.decode("utf-8", errors="replace").strip()
                    if text not in ("online", "offline"):
                        raise InvalidMessage(f"status must be online/offline, got {text[:20]!r}")
                    pending.statuses[node_id] = text == "online"
                else:
                    raise InvalidMessage(f"controller does not ingest {kind!r}")
            except ProtocolError as exc:
                self.rejects.reject(topic, kind, exc)
        return pending

    def _heartbeat(self, node_id: str, payload: bytes) -> HeartbeatMsg:
        """JSON (older agents, debugging) or CBOR (newer agents), by the first byte; an empty
        map is a sign of life (nothing changed): the topic's node, stamped on arrival."""
        if payload == SIGN_OF_LIFE:
            return HeartbeatMsg(node_id=node_id, sent_at=self._clock.now(), delta=True)
        hb = decode_any(HeartbeatMsg, payload, MAX_SMALL_PAYLOAD_BYTES)
        self._check_sender(hb.node_id, node_id)
        return hb

    @staticmethod
    def _check_sender(claimed: str, topic_node: str) -> None:
        if claimed != topic_node:
            raise InvalidMessage(f"node_id {claimed!r} does not match topic node {topic_node!r}")

    def _process(self, raw: list[tuple[str, bytes]]) -> None:
        pending = self._parse(raw)
        if not (pending.heartbeats or pending.batches or pending.statuses):
            return
        for attempt in range(5):
            try:
                self._store(pending)
                break
            except OperationalError as exc:  # e.g. SQLite locked, PostgreSQL restarting
                log.error("storing %d messages failed (attempt %d): %s", len(raw), attempt + 1, exc)
                threading.Event().wait(min(0.5 * 2**attempt, 5))
            except (SQLAlchemyError, ValueError, OverflowError):
                # valid JSON the database refuses (an int beyond 64 bits, a NUL byte on
                # PostgreSQL): store the rest alone and count the poison message as a reject
                pending = self._store_each(pending)
                break
        else:
            log.error("dropping %d messages after retries; agents will resend events", len(raw))
            return
        for batch in pending.batches:
            ack = EventAck(node_id=batch.node_id, seqs=[e.seq for e in batch.events])
            self._publish(topics.node_events_ack(batch.node_id), encode(ack))

    def _store_each(self, pending: _Pending) -> _Pending:
        """Store every message in its own transaction; return what was stored."""
        stored = _Pending()
        singles: list[tuple[str, str, _Pending]] = [
            (topics.node_heartbeat(hb.node_id), "heartbeat", _Pending(heartbeats=[hb]))
            for hb in pending.heartbeats
        ]
        singles += [
            (topics.node_events(b.node_id), "events", _Pending(batches=[b]))
            for b in pending.batches
        ]
        singles += [
            (topics.node_status(n), "status", _Pending(statuses={n: on}))
            for n, on in pending.statuses.items()
        ]
        for topic, kind, single in singles:
            try:
                self._store(single)
            except OperationalError as exc:
                log.error("storing one message on %s failed: %s", topic, exc)
                continue
            except (SQLAlchemyError, ValueError, OverflowError) as exc:
                reason = str(exc).splitlines()[0][:200]
                self.rejects.reject(topic, kind, InvalidMessage(f"cannot be stored: {reason}"))
                continue
            stored.batches += single.batches
        return stored

    def _store(self, pending: _Pending) -> None:
        now = self._clock.now()
        with self._sessions.begin() as session:
            if pending.heartbeats:
                self._store_heartbeats(session, pending.heartbeats, now)
            stored_events = self._store_events(session, pending.batches, now)
            for node_id, online in pending.statuses.items():
                session.execute(
                    update(Node)
                    .where(Node.id == node_id, Node.online.is_not(online))
                    .values(online=online, status_changed_at=now)
                )
        self.stats.heartbeats += len(pending.heartbeats)
        self.stats.events += stored_events
        self.stats.batches_committed += 1
        if self.observe_lag is not None:
            for hb in pending.heartbeats:
                self.observe_lag("heartbeat", (now - hb.sent_at).total_seconds())
            for batch in pending.batches:
                self.observe_lag("events", (now - batch.sent_at).total_seconds())

    def backlog(self) -> int:
        """Messages received and not yet handed to the writer (the ingest queue depth)."""
        return self._queue.qsize()

    @staticmethod
    def _store_heartbeats(session: Session, heartbeats: list[HeartbeatMsg], now: datetime) -> None:
        """Every heartbeat as a row, and each node's newest snapshot on the node (Core
        executemany: the ORM's bulk path costs ~15 % more per row and there is nothing here for
        it to track). A delta heartbeat is merged into the node's last snapshot, and its row
        holds that merged snapshot (the chart and the hourly roll-up read whole snapshots)."""
        ordered = sorted(heartbeats, key=lambda hb: hb.sent_at)
        with_delta = {hb.node_id for hb in ordered if hb.delta}
        snapshots: dict[str, dict[str, Any]] = {}
        if with_delta:
            for node_id, last in session.execute(
                select(Node.id, Node.last_heartbeat).where(Node.id.in_(with_delta))
            ):
                snapshots[node_id] = dict(last or {})
        rows = []
        for hb in ordered:  # oldest first: the newest value of each field wins
            data = hb.model_dump(mode="json", exclude_none=True, exclude_unset=bool(hb.delta))
            if hb.delta:
                data = {**snapshots.get(hb.node_id, {}), **data}
                data.pop("delta", None)
            snapshots[hb.node_id] = data
            rows.append(
                {"node_id": hb.node_id, "sent_at": hb.sent_at, "received_at": now, "data": data}
            )
        session.connection().execute(insert(Heartbeat), rows)
        # no rowcount check: a heartbeat from a node the database does not know yet must not
        # fail the batch
        nodes = cast(Table, Node.__table__)
        session.connection().execute(
            update(nodes)
            .where(nodes.c.id == bindparam("b_id"))
            .values(
                online=True, last_heartbeat_at=bindparam("b_at"), last_heartbeat=bindparam("b_hb")
            ),
            [{"b_id": node_id, "b_at": now, "b_hb": data} for node_id, data in snapshots.items()],
        )

    def _store_events(self, session: Session, batches: list[EventBatch], now: datetime) -> int:
        rows: dict[tuple[str, int], dict[str, Any]] = {}
        for batch in batches:
            for ev in batch.events:
                rows[(batch.node_id, ev.seq)] = {
                    "node_id": batch.node_id,
                    "seq": ev.seq,
                    "kind": ev.kind.value,
                    "at": ev.at,
                    "item_id": ev.item_id,
                    "command_id": ev.command_id,
                    "playlist_version": ev.playlist_version,
                    "detail": ev.detail,
                    "received_at": now,
                }
        if not rows:
            return 0
        stmt = _insert(session, PlaybackEvent).on_conflict_do_nothing(
            index_elements=["node_id", "seq"]
        )
        # Core, like the heartbeats: the rows that were new come back, duplicates do not
        result = session.connection().execute(stmt.returning(PlaybackEvent.id), list(rows.values()))
        inserted = len(result.all())
        self.stats.duplicate_events += len(rows) - inserted
        self._update_command_deliveries(session, batches, now)
        return inserted

    @staticmethod
    def _update_command_deliveries(
        session: Session, batches: list[EventBatch], now: datetime
    ) -> None:
        states = {EventKind.COMMAND_ACK: "acked", EventKind.COMMAND_REJECTED: "failed"}
        for batch in batches:
            for ev in batch.events:
                if ev.command_id and ev.kind in states:
                    session.execute(
                        update(CommandDelivery)
                        .where(
                            CommandDelivery.command_id == ev.command_id,
                            CommandDelivery.node_id == batch.node_id,
                        )
                        .values(state=states[ev.kind], detail=ev.detail, updated_at=now)
                    )
