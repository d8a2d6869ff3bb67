"""The durable outbox of playback events: nothing the agent did is lost to a power cut.

Events are committed to SQLite (WAL, ``synchronous=FULL``) *before* anyone tries to send them,
and are deleted only when the controller acknowledges their exact sequence numbers.
``AUTOINCREMENT`` makes SQLite remember the highest ``seq`` ever used, so a number is never
reused, even after every row was acknowledged and the process restarted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from agent.durable_sqlite import open_durable
from protocol.clock import utc
from protocol.models import EventKind, PlaybackEvent

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    item_id TEXT,
    command_id TEXT,
    playlist_version INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
"""


MAX_SEQ = 2**63 - 1


class Outbox:
    """Thread-safe append/pending/ack over one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = open_durable(path, _SCHEMA)
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        self._last_seq = int(row[0]) if row else 0

    def append(
        self,
        kind: EventKind,
        at: datetime,
        *,
        item_id: str | None = None,
        command_id: str | None = None,
        playlist_version: int | None = None,
        detail: str = "",
    ) -> PlaybackEvent:
        """Store one event durably and return it with its new sequence number."""
        at_utc = utc(at)
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO events (kind, at, item_id, command_id, playlist_version, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    kind.value,
                    at_utc.isoformat(),
                    item_id,
                    command_id,
                    playlist_version,
                    detail[:500],
                ),
            )
            seq = cur.lastrowid
            assert seq is not None
            self._last_seq = seq
        return PlaybackEvent(
            seq=seq,
            kind=kind,
            at=at_utc,
            item_id=item_id,
            command_id=command_id,
            playlist_version=playlist_version,
            detail=detail[:500],
        )

    @property
    def last_seq(self) -> int:
        """The highest sequence number ever appended (0 if none), without a query.

        Survives restarts (read from SQLite's ``AUTOINCREMENT`` counter at open) and is not
        lowered by :meth:`ack`. A sender that already sent up to ``n`` can skip
        :meth:`pending` while ``last_seq <= n``: nothing new was appended since.
        """
        with self._lock:
            return self._last_seq

    def pending(self, limit: int = 500, after_seq: int = 0) -> list[PlaybackEvent]:
        """Unacknowledged events in sequence order (at most ``limit``)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, kind, at, item_id, command_id, playlist_version, detail"
                " FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [
            PlaybackEvent(
                seq=r[0],
                kind=EventKind(r[1]),
                at=datetime.fromisoformat(r[2]),
                item_id=r[3],
                command_id=r[4],
                playlist_version=r[5],
                detail=r[6],
            )
            for r in rows
        ]

    def ack(self, seqs: Iterable[int]) -> int:
        """Delete exactly these sequence numbers; unknown ones are ignored. Returns rows deleted."""
        # a seq beyond SQLite's 64-bit range cannot be ours; binding it would raise with the
        # transaction open and leave every later append uncommitted
        wanted = [(int(s),) for s in seqs if 0 < int(s) <= MAX_SEQ]
        if not wanted:
            return 0
        with self._lock:
            before = self._db.total_changes
            # No fsync for a deletion: if a power cut undoes it, the events are sent again
            # and the controller stores each (node, seq) once. The next append's FULL commit
            # syncs the journal, this deletion included. One card write less per report.
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._db.execute("BEGIN")
                self._db.executemany("DELETE FROM events WHERE seq = ?", wanted)
                self._db.execute("COMMIT")
            finally:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self._db.execute("PRAGMA synchronous=FULL")  # appends stay power-cut safe
            return self._db.total_changes - before

    def count(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
