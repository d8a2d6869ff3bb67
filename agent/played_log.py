"""What the playout already did with each scheduled item, kept across restarts.

After a power cut the clock must know which items it already finished or reported, so it
neither plays them twice nor reports them as missed. Only the latest state per item is
kept, keyed by id *and* start (a compiler may reuse an id for each day's occurrence), and
old rows are pruned.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

from agent.durable_sqlite import open_durable
from protocol.clock import utc
from protocol.models import PlaylistItem

FINAL_STATES = frozenset({"finished", "skipped", "missed", "failed", "stopped"})


class PlayedLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = open_durable(
            path,
            "CREATE TABLE IF NOT EXISTS played (item_id TEXT PRIMARY KEY, state TEXT NOT NULL,"
            " at TEXT NOT NULL)",
        )
        self._cache: dict[str, str] = dict(
            self._db.execute("SELECT item_id, state FROM played").fetchall()
        )

    @staticmethod
    def key(item: PlaylistItem) -> str:
        return f"{item.id}@{item.start.isoformat()}"

    def state(self, item: PlaylistItem) -> str | None:
        with self._lock:
            return self._cache.get(self.key(item))

    def mark(self, item: PlaylistItem, state: str, at: datetime) -> None:
        item_id = self.key(item)
        with self._lock:
            self._db.execute(
                "INSERT INTO played (item_id, state, at) VALUES (?, ?, ?)"
                " ON CONFLICT(item_id) DO UPDATE SET state = excluded.state, at = excluded.at",
                (item_id, state, utc(at).isoformat()),
            )
            self._cache[item_id] = state

    def prune(self, now: datetime, keep: timedelta = timedelta(days=3)) -> None:
        cutoff = utc(now - keep).isoformat()
        with self._lock:
            self._db.execute("DELETE FROM played WHERE at < ?", (cutoff,))
            self._cache = dict(self._db.execute("SELECT item_id, state FROM played").fetchall())

    def close(self) -> None:
        with self._lock:
            self._db.close()
