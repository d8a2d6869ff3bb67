"""The outbox: ordered, durable, acknowledged by exact sequence numbers, never reusing one."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from agent.outbox import Outbox
from protocol.models import EventKind

AT = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def test_sequence_numbers_grow_and_pending_is_ordered(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    seqs = [box.append(EventKind.STARTED, AT, item_id=f"i{n}").seq for n in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert [e.item_id for e in box.pending()] == ["i0", "i1", "i2", "i3", "i4"]
    assert [e.seq for e in box.pending(limit=2, after_seq=2)] == [3, 4]


def test_ack_deletes_exactly_the_given_seqs(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    for _ in range(5):
        box.append(EventKind.FINISHED, AT)
    assert box.ack([2, 4, 99]) == 2
    assert [e.seq for e in box.pending()] == [1, 3, 5]
    assert box.ack([]) == 0


def test_acks_skip_the_fsync_but_appends_keep_it(tmp_path: Path) -> None:
    """A lost deletion only means a resend (stored once); a lost append would be a lost event."""
    box = Outbox(tmp_path / "o.sqlite")
    box.append(EventKind.STARTED, AT)
    statements: list[str] = []
    box._db.set_trace_callback(statements.append)
    box.ack([1])
    assert "PRAGMA synchronous=NORMAL" in statements
    assert box._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again
    assert not box._db.in_transaction


def test_seq_is_never_reused_after_everything_was_acked_and_reopened(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    box = Outbox(path)
    for _ in range(3):
        box.append(EventKind.STARTED, AT)
    box.ack([1, 2, 3])
    box.close()
    again = Outbox(path)
    assert again.count() == 0
    assert again.append(EventKind.STARTED, AT).seq == 4


def test_events_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    script = f"""
import os, signal
from pathlib import Path
from datetime import UTC, datetime
from agent.outbox import Outbox
from protocol.models import EventKind
box = Outbox(Path({str(path)!r}))
for n in range(20):
    box.append(EventKind.STARTED, datetime.now(UTC), item_id=f"i{{n}}", detail="ok")
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -9
    box = Outbox(path)
    events = box.pending()
    assert [e.seq for e in events] == list(range(1, 21))
    assert events[-1].item_id == "i19" and events[-1].detail == "ok"


def test_last_seq_follows_appends_not_acks_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    box = Outbox(path)
    assert box.last_seq == 0
    for _ in range(3):
        box.append(EventKind.STARTED, AT)
    assert box.last_seq == 3
    box.ack([1, 2, 3])
    assert box.last_seq == 3
    box.close()
    again = Outbox(path)
    assert again.last_seq == 3
    assert again.append(EventKind.FINISHED, AT).seq == again.last_seq == 4
