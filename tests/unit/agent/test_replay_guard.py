"""The replay guard: an id is refused while it lives, across restarts, upgrades and bad files."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.replay_guard import PURGE_EVERY, ReplayGuard, ReplayStoreError
from protocol.errors import StaleMessage
from protocol.models import Command, CommandAction

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def command(cid: str = "c1", expires_in: timedelta = timedelta(minutes=10)) -> Command:
    return Command(
        id=cid, action=CommandAction.STOP, issued_at=T0, expires_at=T0 + expires_in, node_id="n1"
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "seen_commands.sqlite"


def test_second_copy_is_a_replay_with_the_usual_message(path: Path) -> None:
    guard = ReplayGuard(path)
    guard.check_and_remember(command(), T0)
    with pytest.raises(StaleMessage, match=r"command 'c1' already received \(replay\)"):
        guard.check_and_remember(command(), T0 + timedelta(minutes=9))
    guard.check_and_remember(command("c2"), T0)  # another id is fine


def test_replay_is_refused_after_reopening_the_file(path: Path) -> None:
    guard = ReplayGuard(path)
    guard.check_and_remember(command(), T0)
    guard.close()
    with pytest.raises(StaleMessage):
        ReplayGuard(path).check_and_remember(command(), T0 + timedelta(seconds=1))


def test_an_id_remembered_just_before_sigkill_is_still_refused(path: Path) -> None:
    script = f"""
import os, signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from agent.replay_guard import ReplayGuard
from protocol.models import Command, CommandAction
t0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
cmd = Command(id="c1", action=CommandAction.STOP, issued_at=t0,
              expires_at=t0 + timedelta(minutes=10), node_id="n1")
ReplayGuard(Path({str(path)!r})).check_and_remember(cmd, t0)
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, "-c", script], check=False, cwd=Path.cwd())
    assert proc.returncode == -9
    with pytest.raises(StaleMessage):
        ReplayGuard(path).check_and_remember(command(), T0)


def test_an_expired_id_is_forgotten_at_once_and_its_row_purged_later(path: Path) -> None:
    guard = ReplayGuard(path)
    guard.check_and_remember(command("short", timedelta(minutes=1)), T0)
    guard.check_and_remember(command("long", timedelta(hours=1)), T0)
    later = T0 + timedelta(minutes=1)  # "short" expires exactly now: no longer seen
    guard.check_and_remember(command("short", timedelta(minutes=5)), later)
    with pytest.raises(StaleMessage):  # taken over with its new expiry
        guard.check_and_remember(command("short", timedelta(minutes=5)), later)
    with pytest.raises(StaleMessage):
        guard.check_and_remember(command("long", timedelta(hours=1)), later)


def test_expired_rows_are_deleted_at_most_once_a_minute(path: Path) -> None:
    guard = ReplayGuard(path)
    for n in range(5):
        guard.check_and_remember(command(f"c{n}", timedelta(seconds=10)), T0)
    assert guard.count() == 5
    almost = T0 + PURGE_EVERY - timedelta(seconds=1)
    guard.check_and_remember(command("x", timedelta(hours=1)), almost)
    assert guard.count() == 6  # all five expired, but the last purge was under a minute ago
    guard.check_and_remember(command("y", timedelta(hours=1)), T0 + PURGE_EVERY)
    assert guard.count() == 2


def test_legacy_json_is_imported_once_and_removed(path: Path) -> None:
    legacy = path.with_name("seen_commands.json")
    expiry = (T0 + timedelta(minutes=10)).isoformat()
    legacy.write_text(json.dumps({"old": expiry, "gone": (T0 - timedelta(hours=1)).isoformat()}))
    guard = ReplayGuard(path)
    assert not legacy.exists()
    with pytest.raises(StaleMessage):
        guard.check_and_remember(command("old"), T0)
    guard.check_and_remember(command("gone"), T0)  # already expired in the old file
    guard.close()
    legacy.write_text(json.dumps({"late": expiry}))  # a later file is imported too, not twice
    again = ReplayGuard(path)
    with pytest.raises(StaleMessage):
        again.check_and_remember(command("late"), T0)


def test_corrupt_legacy_json_is_ignored_with_a_warning(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    legacy = path.with_name("seen_commands.json")
    legacy.write_text('{"c1": "not a time"')
    with caplog.at_level(logging.WARNING, logger="agent.replay_guard"):
        guard = ReplayGuard(path)
    assert "corrupt" in caplog.text
    assert not legacy.exists()
    guard.check_and_remember(command(), T0)
    assert guard.count() == 1


def test_corrupt_database_is_moved_aside_and_a_fresh_one_started(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path.write_bytes(b"this is not a database, it is a power-cut casualty" * 100)
    with caplog.at_level(logging.ERROR, logger="agent.replay_guard"):
        guard = ReplayGuard(path)
    assert "corrupt" in caplog.text
    assert path.with_name(path.name + ".corrupt").read_bytes().startswith(b"this is not")
    guard.check_and_remember(command(), T0)
    guard.close()
    with pytest.raises(StaleMessage):
        ReplayGuard(path).check_and_remember(command(), T0)


def test_a_store_that_cannot_be_written_raises_a_typed_error(path: Path) -> None:
    guard = ReplayGuard(path)
    guard.close()
    with pytest.raises(ReplayStoreError, match="cannot record"):
        guard.check_and_remember(command(), T0)
    guard.close()  # idempotent


def test_an_unopenable_path_is_a_typed_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReplayStoreError, match="cannot"):
        ReplayGuard(blocker / "seen_commands.sqlite")


def test_the_file_has_the_documented_table(path: Path) -> None:
    ReplayGuard(path).check_and_remember(command(), T0)
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT id, expires_at FROM seen_commands").fetchall()
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert rows == [("c1", "2026-03-01T05:10:00.000000+00:00")]
    assert mode == "wal"
