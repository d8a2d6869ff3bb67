"""What the scheduled jobs do. Each ``*_job(ctx)`` is what the runner calls with the live
controller (a :class:`JobContext`); the work itself is a plain function of that context
(tested directly, on a fake clock)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from audio.errors import AudioError
from controller.bridge.playlist_publisher import PublishReport
from controller.db.models import Heartbeat, Node, ScheduleEntryRow
from controller.jobs.context import JobContext
from controller.services.alerts import evaluate as evaluate_alerts
from controller.services.heartbeat_rollup import prune_hourly, roll_up
from controller.services.schedule_editing import with_speech
from controller.services.schedule_store import load_calendar, save_entry
from protocol import liveness
from protocol.liveness import SILENCE_GRACE_S
from schedules import ProgrammeSlot, ScheduleEntry, ScheduleError
from schedules.expansion import ExpandedCalendar
from schedules.local_time import to_local_naive

log = logging.getLogger(__name__)


def run_horizon(ctl: JobContext) -> PublishReport:
    """Recompile every node for the moving window; only changed playlists are published."""
    report = ctl.publisher.refresh()
    log.info("horizon: %s", report)
    return report


def silence_allowed_s(
    snapshot: dict[str, Any] | None, heartbeat_interval_s: float, grace_s: float = SILENCE_GRACE_S
) -> float:
    """How long a node may be silent before it counts as offline: the gap it announced
    (``next_within_s``) plus a grace, or two intervals for older agents that announce nothing
    and send every interval (protocol/liveness.py)."""
    return liveness.silence_allowed_s(
        (snapshot or {}).get("next_within_s"), heartbeat_interval_s, grace_s
    )


def mark_silent_nodes_offline(
    ctl: JobContext, heartbeat_interval_s: float, grace_s: float = SILENCE_GRACE_S
) -> list[str]:
    """Online nodes silent for longer than they said they would be (at least two intervals)
    are offline (the broker's Last Will covers disconnects and dead links it notices; this
    covers a half-open link that never sends the will)."""
    now = ctl.clock.now()
    cutoff = now - timedelta(seconds=silence_allowed_s(None, heartbeat_interval_s, grace_s))
    with ctl.sessions.begin() as session:
        candidates = session.execute(
            select(Node.id, Node.last_heartbeat_at, Node.last_heartbeat).where(
                Node.online.is_(True),
                Node.revoked_at.is_(None),
                ((Node.last_heartbeat_at.is_not(None)) & (Node.last_heartbeat_at < cutoff))
                | (
                    Node.last_heartbeat_at.is_(None)
                    & ((Node.status_changed_at.is_(None)) | (Node.status_changed_at < cutoff))
                ),
            )
        ).all()
        silent = [
            node_id
            for node_id, last_at, snapshot in candidates
            if last_at is None
            or last_at
            < now - timedelta(seconds=silence_allowed_s(snapshot, heartbeat_interval_s, grace_s))
        ]
        if silent:
            session.execute(
                update(Node).where(Node.id.in_(silent)).values(online=False, status_changed_at=now)
            )
    if silent:
        log.info("liveness: %d nodes silent, marked offline", len(silent))
    return silent


def prune_heartbeats(ctl: JobContext, keep_days: float) -> int:
    """Delete stored heartbeats older than ``keep_days`` (nodes keep their last one)."""
    cutoff = ctl.clock.now() - timedelta(days=keep_days)
    with ctl.sessions.begin() as session:
        result = session.execute(delete(Heartbeat).where(Heartbeat.received_at < cutoff))
    removed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if removed:
        log.info("retention: %d heartbeats older than %s removed", removed, cutoff)
    return removed


def due_without_speech(
    entries: list[ScheduleEntry],
    slots: list[ProgrammeSlot],
    now: datetime,
    ahead: timedelta,
) -> list[ScheduleEntry]:
    """tts entries still lacking media that play within ``[now, now + ahead)``."""
    waiting = [e for e in entries if e.kind.value == "tts" and e.media is None]
    if not waiting:
        return []
    calendar = ExpandedCalendar(waiting, slots, now, now + ahead)
    due = []
    for entry in waiting:
        if entry.slot is None:
            if calendar.fixed[entry.id]:
                due.append(entry)
            continue
        runs = [r for r in calendar.slot_runs[entry.slot] if entry.valid_at(r)]
        days = calendar.slot_days[entry.id]
        if any(days is None or to_local_naive(r).date() in days for r in runs):
            due.append(entry)
    return due


def prerender_speech(ctl: JobContext, ahead: timedelta) -> list[str]:
    """Synthesise speech for entries starting soon (YAML imports arrive as text only), then
    republish: their occurrences stop being "media not ready"."""
    now = ctl.clock.now()
    with ctl.sessions() as session:
        calendar = load_calendar(session, now)
    try:
        due = due_without_speech(calendar.entries, calendar.slots, now, ahead)
    except ScheduleError as exc:
        log.error("pre-render: calendar does not expand: %s", exc.reason)
        return []
    done: list[str] = []
    for entry in due:
        with ctl.sessions() as session:
            row = session.get(ScheduleEntryRow, entry.id)
            if row is None:
                continue  # an announcement: those are rendered when created
            try:
                rendered = with_speech(session, ctl.renderer, entry, now)
            except AudioError as exc:
                log.error("pre-render of %s failed: %s", entry.id, exc)
                continue
            save_entry(session, rendered, now, created_by=row.created_by)
            session.commit()
            done.append(entry.id)
    if done:
        ctl.publisher.refresh()
    return done


def alerts_job(ctx: JobContext) -> None:
    evaluate_alerts(ctx)


def horizon_job(ctx: JobContext) -> None:
    run_horizon(ctx)


def liveness_job(ctx: JobContext) -> None:
    s = ctx.settings
    mark_silent_nodes_offline(ctx, s.heartbeat_interval_s, s.heartbeat_grace_s)


def roll_up_heartbeats(
    ctl: JobContext, raw_keep_h: float, keep_days: float, heartbeat_interval_s: float
) -> tuple[int, int, int]:
    """Fold raw heartbeats older than ``raw_keep_h`` into hourly rows (then gone) and drop
    hourly rows older than ``keep_days``; return (folded, hourly written, hourly pruned)."""
    now = ctl.clock.now()
    with ctl.sessions.begin() as session:
        folded, written = roll_up(
            session,
            now - timedelta(hours=raw_keep_h),
            lambda data: silence_allowed_s(data, heartbeat_interval_s),
        )
        pruned = prune_hourly(session, now - timedelta(days=keep_days))
    if folded or pruned:
        log.info("retention: %d heartbeats rolled into %d hours, %d hours dropped", folded,
                 written, pruned)  # fmt: skip
    return folded, written, pruned


def retention_job(ctx: JobContext) -> None:
    s = ctx.settings
    roll_up_heartbeats(ctx, s.heartbeat_raw_keep_h, s.heartbeat_retention_days,
                       s.heartbeat_interval_s)  # fmt: skip


def prerender_job(ctx: JobContext) -> None:
    prerender_speech(ctx, timedelta(hours=ctx.settings.prerender_ahead_h))


def rollouts_job(ctx: JobContext) -> None:
    """Move running agent rollouts on (canaries -> waves, halt on failures).

    Sending update commands needs the controller's signer and MQTT link, which JobContext
    does not expose; create_app hands the live Controller as the context.
    """
    from controller.services.rollout import advance

    advance(ctx)  # type: ignore[arg-type]
