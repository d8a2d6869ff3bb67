"""Ingest heartbeats, event batches and status from nodes, in batched transactions.

The MQTT thread only enqueues; one writer thread drains the queue and stores up to
``max_batch`` messages per transaction. Events are inserted with ON CONFLICT DO NOTHING on
(node_id, seq), so a batch resent any number of times is stored once; the ack (all seqs of
the batch) is published only after the commit, so an ack always means "stored".

The transaction is kept short, because SQLite has one writer and the API's writes (a command
issued to a zone while its 2,000 nodes' acks pour in) wait behind it: rows are built before
it opens, each table gets one multi-row statement, and at most ``max_batch`` messages go in
one commit. A ``database is locked`` (another writer held the lock past the busy timeout) is
retried until it succeeds, so no message the writer took is dropped for it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
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
from controller.db.retry import is_locked, lock_log_level
from protocol import topics
from protocol.clock import Clock
from protocol.codec import MAX_SMALL_PAYLOAD_BYTES, decode, encode
from protocol.compact import SIGN_OF_LIFE, decode_any
from protocol.errors import InvalidMessage, ProtocolError
from protocol.models import EventAck, EventBatch, EventKind
from protocol.models import Heartbeat as HeartbeatMsg

log = logging.getLogger(__name__)

MAX_EVENT_BATCH_BYTES = 512 * 1024
# messages per transaction: enough to amortise a commit, few enough that another writer
# waits ~tens of milliseconds for the lock, not seconds
DEFAULT_MAX_BATCH = 500
# a node whose heartbeats keep arriving out of line (a lossy link) is asked for a full
# snapshot at most this often
STALE_ASK_EVERY_S = 600.0
OTHER_ERROR_ATTEMPTS = 5  # a refused connection, a PostgreSQL restart: then agents resend
Publish = Callable[[str, bytes], object]


@dataclass
class _Pending:
    heartbeats: list[HeartbeatMsg] = field(default_factory=list)
    stale: set[str] = field(default_factory=set)  # deltas merged into an older snapshot
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
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self._sessions = session_factory
        self._publish = publish
        self._clock = clock
        self.rejects = rejects
        self.stats = IngestStats()
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._max_batch = max_batch
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.idle = threading.Event()
        # Told, after each commit, of how old each stored message was ("heartbeat"/"events",
        # seconds from the agent's sent_at): the controller's ingest-lag metric.
        self.observe_lag: Callable[[str, float], None] | None = None
        # Told, after each commit, of each node that asked for its full playlist again (a
        # ``playlist_resync`` event: a delta did not fit the version it holds).
        self.on_resync: Callable[[str], object] | None = None
        # Told of each node whose delta heartbeat did not follow the snapshot stored for it
        # (a heartbeat was lost, or this database was restored from a backup): ask it for a
        # full snapshot. At most once per node per ``stale_ask_every_s``.
        self.on_stale_snapshot: Callable[[str], object] | None = None
        self.stale_ask_every_s = STALE_ASK_EVERY_S
        self._stale_asked: dict[str, float] = {}

    # called on the MQTT network thread: cheap
    def on_message(self, topic: str, payload: bytes) -> None:
        self.idle.clear()
        self._queue.put((topic, payload))

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Store what is queued, then end the writer; a writer still waiting on a locked
        database after 10 s gives up (unacked: the agents resend those events)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._stopping.set()
            self._thread.join(timeout=20)
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
        try:
            self._store_retrying(pending, len(raw))
        except OperationalError:
            log.error("dropping %d messages after retries; agents will resend events", len(raw))
            return
        except (SQLAlchemyError, ValueError, OverflowError):
            # valid JSON the database refuses (an int beyond 64 bits, a NUL byte on
            # PostgreSQL): store the rest alone and count the poison message as a reject
            pending = self._store_each(pending)
        for batch in pending.batches:
            ack = EventAck(node_id=batch.node_id, seqs=[e.seq for e in batch.events])
            self._publish(topics.node_events_ack(batch.node_id), encode(ack))

    def _store_retrying(self, pending: _Pending, count: int) -> None:
        """Store ``pending`` in one transaction: a locked database is retried for as long as
        it stays locked (only a stop ends that); other operational errors (connection lost,
        PostgreSQL restarting) :data:`OTHER_ERROR_ATTEMPTS` times. Then the error is raised."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                self._store(pending)
                return
            except OperationalError as exc:
                locked = is_locked(exc)
                if self._stopping.is_set() or (not locked and attempt >= OTHER_ERROR_ATTEMPTS):
                    raise
                waited = time.monotonic() - started
                log.log(
                    lock_log_level(waited) if locked else logging.ERROR,
                    "storing %d messages failed (attempt %d, %.1f s): %s",
                    count,
                    attempt,
                    waited,
                    exc.orig,
                )
                pause = 0.02 * 2**attempt if locked else 0.5 * 2 ** (attempt - 1)
                self._stopping.wait(min(pause, 5))

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
                self._store_retrying(single, 1)
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
        # everything that needs no database is made before the write lock is taken
        event_rows = self._event_rows(pending.batches, now)
        delivery_rows = self._delivery_rows(pending.batches, now)
        status_rows = [
            {"b_id": node_id, "b_online": online, "b_at": now}
            for node_id, online in pending.statuses.items()
        ]
        with self._sessions.begin() as session:
            if pending.heartbeats:
                pending.stale = self._store_heartbeats(session, pending.heartbeats, now)
            stored_events = self._store_events(session, event_rows)
            if delivery_rows:
                session.connection().execute(_DELIVERY_UPDATE, delivery_rows)
            if status_rows:
                session.connection().execute(_STATUS_UPDATE, status_rows)
        self.stats.heartbeats += len(pending.heartbeats)
        self.stats.events += stored_events
        self.stats.batches_committed += 1
        self._resync(pending.batches)
        self._ask_full_snapshots(pending.stale)
        if self.observe_lag is not None:
            for hb in pending.heartbeats:
                self.observe_lag("heartbeat", (now - hb.sent_at).total_seconds())
            for batch in pending.batches:
                self.observe_lag("events", (now - batch.sent_at).total_seconds())

    def _resync(self, batches: list[EventBatch]) -> None:
        """Send full playlists to nodes that asked, once per node per batch, off this thread
        (publishing waits for the publisher's lock, and the writer must keep draining)."""
        asked = {
            b.node_id for b in batches for ev in b.events if ev.kind is EventKind.PLAYLIST_RESYNC
        }
        on_resync = self.on_resync
        for node_id in sorted(asked) if on_resync is not None else []:
            threading.Thread(target=on_resync, args=(node_id,), daemon=True).start()

    def _ask_full_snapshots(self, stale: set[str]) -> None:
        """Ask nodes whose stored snapshot is stale for a full one (off this thread, like
        :meth:`_resync`), each at most once per ``stale_ask_every_s``."""
        ask = self.on_stale_snapshot
        if ask is None or not stale:
            return
        now = self._clock.monotonic()
        for node_id in sorted(stale):
            last = self._stale_asked.get(node_id)
            if last is not None and now - last < self.stale_ask_every_s:
                continue
            self._stale_asked[node_id] = now
            log.info("node %s: heartbeat out of line with its snapshot, asking for all", node_id)
            threading.Thread(target=ask, args=(node_id,), daemon=True).start()

    def backlog(self) -> int:
        """Messages received and not yet handed to the writer (the ingest queue depth)."""
        return self._queue.qsize()

    @staticmethod
    def _store_heartbeats(
        session: Session, heartbeats: list[HeartbeatMsg], now: datetime
    ) -> set[str]:
        """Every heartbeat as a row, and each node's newest snapshot on the node (Core
        executemany: the ORM's bulk path costs ~15 % more per row and there is nothing here for
        it to track). A delta heartbeat is merged into the node's last snapshot, and its row
        holds that merged snapshot (the chart and the hourly roll-up read whole snapshots).
        Returns the nodes whose numbered delta did not follow their stored snapshot."""
        ordered = sorted(heartbeats, key=lambda hb: hb.sent_at)
        with_delta = {hb.node_id for hb in ordered if hb.delta}
        snapshots: dict[str, dict[str, Any]] = {}
        if with_delta:
            for node_id, last in session.execute(
                select(Node.id, Node.last_heartbeat).where(Node.id.in_(with_delta))
            ):
                snapshots[node_id] = dict(last or {})
        rows = []
        stale: set[str] = set()
        for hb in ordered:  # oldest first: the newest value of each field wins
            data = hb.model_dump(mode="json", exclude_none=True, exclude_unset=bool(hb.delta))
            if hb.delta:
                base = snapshots.get(hb.node_id, {})
                if hb.seq is not None and base.get("seq") != hb.seq - 1:
                    stale.add(hb.node_id)
                data = {**base, **data}
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
        return stale

    @staticmethod
    def _event_rows(batches: list[EventBatch], now: datetime) -> list[dict[str, Any]]:
        """One row per (node, seq): a seq twice in the same transaction is stored once."""
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
        return list(rows.values())

    def _store_events(self, session: Session, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        stmt = _insert(session, PlaybackEvent).on_conflict_do_nothing(
            index_elements=["node_id", "seq"]
        )
        # Core, like the heartbeats: the rows that were new come back, duplicates do not
        result = session.connection().execute(stmt.returning(PlaybackEvent.id), rows)
        inserted = len(result.all())
        self.stats.duplicate_events += len(rows) - inserted
        return inserted

    @staticmethod
    def _delivery_rows(batches: list[EventBatch], now: datetime) -> list[dict[str, Any]]:
        """A command's ack / rejection moves the node's delivery to acked / failed."""
        return [
            {
                "b_command": ev.command_id,
                "b_node": batch.node_id,
                "b_state": _DELIVERY_STATES[ev.kind],
                "b_detail": ev.detail,
                "b_at": now,
            }
            for batch in batches
            for ev in batch.events
            if ev.command_id and ev.kind in _DELIVERY_STATES
        ]


_DELIVERY_STATES = {EventKind.COMMAND_ACK: "acked", EventKind.COMMAND_REJECTED: "failed"}
_deliveries = cast(Table, CommandDelivery.__table__)
# one executemany for a whole batch of acks (2,000 of them in a zone fan-out), not a
# statement each: the write lock is held for milliseconds
_DELIVERY_UPDATE = (
    update(_deliveries)
    .where(
        _deliveries.c.command_id == bindparam("b_command"),
        _deliveries.c.node_id == bindparam("b_node"),
    )
    .values(state=bindparam("b_state"), detail=bindparam("b_detail"), updated_at=bindparam("b_at"))
)
_nodes = cast(Table, Node.__table__)
# a status that changes nothing leaves status_changed_at alone
_STATUS_UPDATE = (
    update(_nodes)
    .where(
        _nodes.c.id == bindparam("b_id"), _nodes.c.online.is_distinct_from(bindparam("b_online"))
    )
    .values(online=bindparam("b_online"), status_changed_at=bindparam("b_at"))
)
