"""The controller's job scheduler: APScheduler 3 with its jobs persisted in the controller
database, started only while this process holds the ``scheduler`` lease.

Misfires are handled on purpose. Every job is ``coalesce=True``: after downtime, the runs
that were missed collapse into one (recompiling the horizon or pruning heartbeats five times
in a row is useless). ``misfire_grace_time``:

* horizon, retention, pre-render: ``None`` (no limit) — however late, one catch-up run is
  exactly what a restarted controller needs (playlists of the new window, missing speech);
* liveness, alerts: one interval — a late check is worthless once the next one is due.

Jobs are added with fixed ids only when missing (or when their interval changed), so a
restart keeps their stored next run times; the horizon is also run at once on take-over.

The store keeps what must outlive the process (ids, triggers, next run times); what a job
does needs the live controller, which cannot be stored. So every stored job names the same
placeholder, :func:`stored_job`, and this runner's executor runs the task of that job id
with the :class:`JobContext` it was given — no process-wide registry of controllers.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from controller.config import ControllerSettings
from controller.jobs import tasks
from controller.jobs.context import JobContext
from controller.jobs.lease import Lease
from controller.jobs.resilient_store import ResilientJobStore

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
JOB_TABLE = "scheduler_jobs"


Task = Callable[[JobContext], None]


def _job_specs(js: ControllerSettings) -> list[tuple[str, Task, float, float | None]]:
    """(id, task, interval seconds, misfire grace seconds)."""
    liveness = max(1.0, js.heartbeat_interval_s / 2)
    return [
        ("horizon", tasks.horizon_job, js.horizon_interval_min * 60, None),
        ("liveness", tasks.liveness_job, liveness, liveness),
        ("alerts", tasks.alerts_job, js.alerts_interval_s, js.alerts_interval_s),
        ("retention", tasks.retention_job, js.retention_interval_h * 3600, None),
        ("prerender", tasks.prerender_job, js.prerender_interval_min * 60, None),
    ]


def stored_job() -> None:
    """What the job store names for every job; :class:`JobRunner`'s executor runs the real
    task instead. Called any other way (a stray scheduler on the same table), it says so."""
    raise RuntimeError("controller jobs run only through their JobRunner")


@dataclass(frozen=True)
class _LiveJob:
    """The fields ``apscheduler.executors.base.run_job`` reads, with the live task."""

    id: str
    misfire_grace_time: int | None
    func: Callable[[], None]
    _jobstore_alias: str
    args: tuple[()] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.id


class _LiveExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """Runs each stored job as this runner's task of the same id, on the live context."""

    def __init__(self, tasks: Mapping[str, Callable[[], None]]) -> None:
        super().__init__(max_workers=5)
        self._tasks = tasks

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        task = self._tasks.get(job.id, stored_job)
        live = _LiveJob(job.id, job.misfire_grace_time, task, job._jobstore_alias)
        super()._do_submit_job(live, run_times)


class JobRunner:
    """Keeps the lease (its own thread) and runs the scheduler while holding it.

    ``settings``: the intervals and lease timing (default: the context's own settings).
    """

    def __init__(self, ctx: JobContext, settings: ControllerSettings | None = None) -> None:
        self._ctx = ctx
        self.settings = settings or ctx.settings
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = Lease(
            ctx.sessions,
            ctx.clock,
            LEASE_NAME,
            holder,
            timedelta(seconds=self.settings.lease_ttl_s),
        )
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tick_lock = threading.Lock()

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    def start(self) -> None:
        """Try for the lease now, then keep renewing it in the background."""
        self.tick()
        self._thread = threading.Thread(target=self._loop, name="loa-jobs-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._tick_lock:
            was_leading = self.leading
            self._stop_scheduler(wait=True)
            if was_leading:
                self.lease.release()

    def tick(self) -> bool:
        """Renew (or take) the lease and start/stop the scheduler to match; True if leading."""
        with self._tick_lock:
            try:
                held = self.lease.renew()
            except Exception:  # a locked or unreachable database must not kill the thread
                log.exception("lease renewal failed; acting as follower")
                held = False
            if held and not self.leading:
                self._start_scheduler()
            elif not held and self.leading:
                log.warning("scheduler lease lost to another controller; stopping jobs")
                self._stop_scheduler(wait=False)
            return held

    def run_now(self, job_id: str) -> bool:
        """Ask for a job to run at once (e.g. the horizon after a big import)."""
        if self.scheduler is None:
            return False
        self.scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.lease_renew_s):
            self.tick()

    def _start_scheduler(self) -> None:
        specs = _job_specs(self.settings)
        ctx = self._ctx
        live = {job_id: _bind(task, ctx) for job_id, task, _, _ in specs}
        store = ResilientJobStore(engine=ctx.engine, tablename=JOB_TABLE)
        scheduler = BackgroundScheduler(
            jobstores={"default": store},
            executors={"default": _LiveExecutor(live)},
            timezone=UTC,
            job_defaults={"max_instances": 1},
        )
        for listener in ctx.scheduler_listeners:
            scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start(paused=True)
        for job_id, _, every_s, grace in specs:
            self._ensure_job(scheduler, job_id, every_s, grace)
        scheduler.modify_job("horizon", next_run_time=datetime.now(UTC))
        scheduler.resume()
        self.scheduler = scheduler
        log.info("scheduler started (lease holder %s)", self.lease.holder)

    def _ensure_job(
        self,
        scheduler: BackgroundScheduler,
        job_id: str,
        every_s: float,
        grace: float | None,
    ) -> None:
        trigger = IntervalTrigger(seconds=every_s, timezone=UTC)
        job = scheduler.get_job(job_id)
        options: dict[str, Any] = {
            "coalesce": True,
            "misfire_grace_time": None if grace is None else max(1, int(grace)),
        }
        if job is None:
            scheduler.add_job(stored_job, trigger, id=job_id, replace_existing=True, **options)
            return
        if getattr(job.trigger, "interval", None) != trigger.interval:
            scheduler.reschedule_job(job_id, trigger=trigger)
        scheduler.modify_job(job_id, func=stored_job, args=(), **options)

    def _stop_scheduler(self, wait: bool) -> None:
        """``wait``: let a running job finish (clean stop) or not (lease lost: hurry)."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=wait)
            self.scheduler = None


def _bind(task: Task, ctx: JobContext) -> Callable[[], None]:
    return lambda: task(ctx)
