"""Command ids already seen, so a redelivered command is never executed twice.

QoS 1 means "at least once": the broker may hand the same signed command over again, also
after the agent restarted or lost power. Every accepted id is committed to SQLite (WAL,
``synchronous=FULL``, like the outbox) *before* the command is acted on; the check and the
remembering are one ``INSERT``, so one fsync per command instead of rewriting a JSON file of
every id (two fsyncs and a rename, with a cost that grew with the number of ids).

An id is kept until its command expires: an expired command is refused anyway, so an expired
row counts as absent at once and is deleted at most once a minute (by the ``now`` the caller
passes, never the wall clock).

Upgrade in place: ids in an old ``seen_commands.json`` next to the database are imported
once and the JSON file is deleted; a corrupt JSON file is logged and deleted.

A corrupt database does not stop the agent: it is moved aside to ``<name>.corrupt`` and a
fresh one is started, with an error in the log. Refusing to start would silence the
loudspeaker; a fresh start risks at most re-running a command still redelivered before it
expires, and commands expire within minutes.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path

from agent.durable_sqlite import open_durable
from protocol.clock import utc
from protocol.errors import StaleMessage
from protocol.models import Command

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(minutes=1)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_commands (
    id TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
"""

# One statement decides and remembers: a new id is inserted; an id whose row has expired is
# taken over (it counts as forgotten); a live id changes nothing, which means replay.
_REMEMBER = """
INSERT INTO seen_commands (id, expires_at) VALUES (?, ?)
ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at
WHERE seen_commands.expires_at <= ?
"""


class ReplayStoreError(Exception):
    """The seen-ids database cannot be opened, read or written (the command is refused)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _stamp(moment: datetime) -> str:
    """Fixed-width UTC text, so SQLite's text comparison orders instants correctly."""
    return utc(moment).isoformat(timespec="microseconds")


class ReplayGuard:
    """Thread-safe check-and-remember of command ids over one SQLite file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._last_purge: datetime | None = None
        self._db = _open_or_start_fresh(path)
        self._import_legacy_json(path.with_suffix(".json"))

    def check_and_remember(self, command: Command, now: datetime) -> None:
        """Raise :class:`StaleMessage` if seen (and unexpired); otherwise remember it durably.

        Raises :class:`ReplayStoreError` if the id cannot be recorded: the caller must then
        refuse the command, since it could not be recognised if it came again.
        """
        now_text = _stamp(now)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                if self._purge_due(now):
                    self._db.execute("DELETE FROM seen_commands WHERE expires_at <= ?", (now_text,))
                    self._last_purge = now
                cur = self._db.execute(
                    _REMEMBER, (command.id, _stamp(command.expires_at), now_text)
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise ReplayStoreError(f"cannot record command id: {exc}") from exc
        if cur.rowcount == 0:
            raise StaleMessage(f"command {command.id!r} already received (replay)")

    def count(self) -> int:
        """Rows kept (expired ones included until the next purge)."""
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM seen_commands").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the database; later checks raise :class:`ReplayStoreError`. Idempotent."""
        with self._lock:
            self._db.close()

    def _purge_due(self, now: datetime) -> bool:
        last = self._last_purge
        return last is None or now < last or now - last >= PURGE_EVERY

    def _rollback(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the connection is closed or broken; the next call reports it

    def _import_legacy_json(self, legacy: Path) -> None:
        """Take over the ids of the JSON file older agents kept, once, then delete it."""
        try:
            text = legacy.read_text()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("old replay file %s unreadable, ignored: %s", legacy, exc)
            return
        try:
            rows = [
                (str(k), _stamp(datetime.fromisoformat(v))) for k, v in json.loads(text).items()
            ]
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("old replay file %s is corrupt, ignored and deleted: %s", legacy, exc)
            rows = []
        with self._lock:
            try:  # one transaction, committed before the file goes: a crash re-imports
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT OR IGNORE INTO seen_commands (id, expires_at) VALUES (?, ?)", rows
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise ReplayStoreError(f"cannot import {legacy}: {exc}") from exc
        try:
            legacy.unlink(missing_ok=True)
            legacy.with_name(legacy.name + ".tmp").unlink(missing_ok=True)
        except OSError as exc:  # imported already; a second import changes nothing
            log.warning("cannot delete old replay file %s: %s", legacy, exc)
        if rows:
            log.info("imported %d command ids from %s", len(rows), legacy)


def _open(path: Path) -> sqlite3.Connection:
    db = open_durable(path, _SCHEMA)
    try:
        (verdict,) = db.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {verdict}")
    except sqlite3.Error:
        db.close()
        raise
    return db


def _open_or_start_fresh(path: Path) -> sqlite3.Connection:
    """Open the database; a corrupt one is moved aside (see the module docstring)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReplayStoreError(f"cannot create {path.parent}: {exc}") from exc
    try:
        return _open(path)
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError):  # locked, unwritable, full: not corrupt
            raise ReplayStoreError(f"cannot open {path}: {exc}") from exc
        log.error("replay database %s is corrupt (%s): moved aside, starting fresh", path, exc)
    try:
        path.replace(path.with_name(path.name + ".corrupt"))
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return _open(path)
    except (OSError, sqlite3.Error) as exc:
        raise ReplayStoreError(f"cannot start a fresh {path}: {exc}") from exc
