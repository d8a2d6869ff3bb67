"""The scheduler's job store rides out a locked SQLite file instead of killing its thread."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine

from controller.jobs.resilient_store import ResilientJobStore


def test_locked_database_is_logged_and_retried(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "jobs.sqlite3"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1})
    store = ResilientJobStore(engine=engine, tablename="jobs")
    store.start(None, "default")  # type: ignore[arg-type]
    assert store.get_due_jobs(datetime.now(UTC)) == []

    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        now = datetime.now(UTC)
        assert store.get_due_jobs(now) == []
        retry_at = store.get_next_run_time()
        assert retry_at is not None and retry_at > now
        assert "job store unavailable" in caplog.text
    finally:
        holder.rollback()
        holder.close()
    assert store.get_next_run_time() is None  # healthy again, and no jobs
