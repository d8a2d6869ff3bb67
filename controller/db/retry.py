"""Retrying a write that found SQLite's single write lock taken for too long.

SQLite has one writer at a time. ``PRAGMA busy_timeout`` makes a write wait for the lock, but
on a starved machine the holder (e.g. the ack ingest during a 2,000-node fan-out) can keep it
longer than that, and the waiting write fails with ``database is locked``. Such a failed
transaction was rolled back whole, so the write is simply run again: an operator's command or
an agent's ack is delayed, never lost. Other errors are not retried here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")

# a lock that lasts longer than this is worth an operator's attention (an ERROR line); the
# shorter waits of a busy moment are warnings
ERROR_AFTER_S = 5.0
MAX_PAUSE_S = 2.0


def is_locked(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY)."""
    return isinstance(exc, OperationalError) and "is locked" in str(exc.orig)


def lock_log_level(waited_s: float) -> int:
    """WARNING while a lock wait is a busy moment, ERROR once it has lasted ERROR_AFTER_S."""
    return logging.ERROR if waited_s >= ERROR_AFTER_S else logging.WARNING


def retry_locked(
    write: Callable[[], T],
    what: str,
    *,
    budget_s: float = 60.0,
    stop: threading.Event | None = None,
) -> T:
    """Run ``write`` (one whole transaction) until it does not fail with a lock error.

    Pauses grow from 20 ms to :data:`MAX_PAUSE_S`. Gives up (re-raising) after ``budget_s``
    of trying, or at once when ``stop`` is set; any other error is raised at once.
    """
    started = time.monotonic()
    pause = 0.02
    attempt = 1
    while True:
        try:
            return write()
        except OperationalError as exc:
            waited = time.monotonic() - started
            if not is_locked(exc) or waited >= budget_s or (stop is not None and stop.is_set()):
                raise
            log.log(
                lock_log_level(waited),
                "%s: database is locked (attempt %d, %.1f s so far); trying again",
                what,
                attempt,
                waited,
            )
        (stop or threading.Event()).wait(pause)
        pause = min(pause * 2, MAX_PAUSE_S)
        attempt += 1
