"""The agent's small SQLite files (outbox, played log, replay guard), opened one way.

Each must survive a power cut on an SD card: WAL journal with ``synchronous=FULL`` (a commit
is on the card when it returns), autocommit mode so each module decides its own
transactions, and one connection shared across threads behind the owner's lock.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_durable(path: Path, schema: str) -> sqlite3.Connection:
    """Open (creating if needed) ``path`` and apply ``schema``; closed again on failure."""
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(schema)
    except sqlite3.Error:
        db.close()
        raise
    return db
