"""Engine and session factory. SQLite gets WAL, a busy timeout and foreign keys on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_conn: Any, busy_timeout_ms: int) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cur.close()


def make_engine(url: str, busy_timeout_s: float = 10.0) -> Engine:
    """``busy_timeout_s``: how long an SQLite write waits for another writer's lock before
    ``database is locked`` (the callers that must not lose a write retry on top of it)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout_s}
        )
        busy_ms = max(1, round(busy_timeout_s * 1000))
        event.listen(engine, "connect", lambda conn, _rec: _sqlite_pragmas(conn, busy_ms))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
