"""A persistent job store that survives a locked or restarting database.

APScheduler 3.x calls the job store from its scheduler thread without catching database
errors; one ``database is locked`` (SQLite under load) or a PostgreSQL restart would end that
thread and, with it, every job of the replica that holds the lease. Here each call that the
scheduling loop makes is guarded: the error is logged and the loop simply tries again soon.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

RETRY = timedelta(seconds=2)


class ResilientJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    def get_due_jobs(self, now: datetime) -> list[Any]:
        try:
            return list(super().get_due_jobs(now))
        except OperationalError as exc:
            log.error("job store unavailable, will retry: %s", exc.orig)
            return []

    def get_next_run_time(self) -> datetime | None:
        try:
            value: datetime | None = super().get_next_run_time()
            return value
        except OperationalError as exc:
            log.error("job store unavailable, will retry: %s", exc.orig)
            return datetime.now(UTC) + RETRY

    def update_job(self, job: Any) -> None:
        try:
            super().update_job(job)
        except OperationalError as exc:
            log.error("could not record the next run of %s, will retry: %s", job.id, exc.orig)

    def remove_job(self, job_id: str) -> None:
        try:
            super().remove_job(job_id)
        except OperationalError as exc:
            log.error("could not remove job %s, will retry: %s", job_id, exc.orig)
