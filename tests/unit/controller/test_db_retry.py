"""A write that finds SQLite locked is run again; any other error is not retried."""

from __future__ import annotations

import logging
import sqlite3
import threading

import pytest
from sqlalchemy.exc import OperationalError

from controller.db.retry import retry_locked


def _error(message: str) -> OperationalError:
    return OperationalError("INSERT ...", {}, sqlite3.OperationalError(message))


def test_a_locked_write_is_retried_until_it_goes_through(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def write() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _error("database is locked")
        return "stored"

    with caplog.at_level(logging.WARNING, logger="controller.db.retry"):
        assert retry_locked(write, "storing x") == "stored"
    assert len(calls) == 3
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.WARNING]


def test_other_errors_are_raised_at_once() -> None:
    calls: list[int] = []

    def write() -> None:
        calls.append(1)
        raise _error("disk I/O error")

    with pytest.raises(OperationalError, match="disk I/O"):
        retry_locked(write, "storing x")
    assert len(calls) == 1


def test_a_lock_that_outlasts_the_budget_or_a_stop_is_raised() -> None:
    def write() -> None:
        raise _error("database is locked")

    with pytest.raises(OperationalError, match="locked"):
        retry_locked(write, "storing x", budget_s=0.1)
    stop = threading.Event()
    stop.set()
    with pytest.raises(OperationalError, match="locked"):
        retry_locked(write, "storing x", stop=stop)
