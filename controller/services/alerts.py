"""Operational alerts: silent villages, playback failures, clock drift, full disks.

``evaluate`` is idempotent: it opens an alert once per (node, kind) while the condition
holds and closes it when the condition clears, so running it every few seconds is cheap and
never floods the panel or the webhook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from controller.config import ControllerSettings
from controller.db.models import Alert, Node, PlaybackEvent
from protocol.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertLimits:
    offline_after: timedelta = timedelta(minutes=10)
    failure_lookback: timedelta = timedelta(hours=1)
    clock_offset_ms: float = 2000.0
    disk_free_mb: float = 200.0


Condition = tuple[str, str, str]  # node_id, kind, message


class AlertContext(Protocol):
    """What evaluating alerts needs (a running controller, or the jobs' context)."""

    @property
    def settings(self) -> ControllerSettings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def sessions(self) -> sessionmaker[Session]: ...


def current_conditions(session: Session, now: datetime, limits: AlertLimits) -> list[Condition]:
    found: list[Condition] = []
    for node in session.scalars(select(Node).where(Node.revoked_at.is_(None))):
        since = node.status_changed_at or node.created_at
        if not node.online and since <= now - limits.offline_after:
            minutes = int((now - since).total_seconds() // 60)
            found.append((node.id, "offline", f"silent for {minutes} min"))
        hb: dict[str, Any] = node.last_heartbeat or {}
        offset = hb.get("clock_offset_ms")
        if isinstance(offset, int | float) and abs(offset) > limits.clock_offset_ms:
            found.append((node.id, "clock_drift", f"clock off by {offset:.0f} ms"))
        disk = hb.get("disk_free_mb")
        if isinstance(disk, int | float) and disk < limits.disk_free_mb:
            found.append((node.id, "disk_low", f"only {disk:.0f} MB free"))
    last_kind = (
        select(PlaybackEvent.node_id, func.max(PlaybackEvent.at).label("at"))
        .where(
            PlaybackEvent.at >= now - limits.failure_lookback,
            PlaybackEvent.kind.in_(("finished", "failed")),
        )
        .group_by(PlaybackEvent.node_id)
        .subquery()
    )
    failures = session.execute(
        select(PlaybackEvent.node_id, PlaybackEvent.item_id, PlaybackEvent.detail)
        .join(
            last_kind,
            (PlaybackEvent.node_id == last_kind.c.node_id) & (PlaybackEvent.at == last_kind.c.at),
        )
        .where(PlaybackEvent.kind == "failed")
    )
    for node_id, item_id, detail in failures:
        found.append((node_id, "playback_failed", f"{item_id or 'item'}: {detail}"[:500]))
    return found


def evaluate(
    ctl: AlertContext,
    limits: AlertLimits | None = None,
    notify: Callable[[Alert], None] | None = None,
) -> list[Alert]:
    """Open new alerts and close cleared ones; returns the alerts opened now."""
    limits = limits or AlertLimits(
        offline_after=timedelta(minutes=ctl.settings.alert_offline_after_min)
    )
    notify = notify or (lambda alert: send_webhook(ctl.settings.alert_webhook_url, alert))
    now = ctl.clock.now()
    opened: list[Alert] = []
    with ctl.sessions.begin() as session:
        conditions = {(n, k): m for n, k, m in current_conditions(session, now, limits)}
        open_alerts = {
            (a.node_id, a.kind): a
            for a in session.scalars(select(Alert).where(Alert.closed_at.is_(None)))
        }
        for key, alert in open_alerts.items():
            if key not in conditions:
                alert.closed_at = now
            else:
                alert.message = conditions[key]
        for (node_id, kind), message in conditions.items():
            if (node_id, kind) not in open_alerts:
                alert = Alert(node_id=node_id, kind=kind, message=message, opened_at=now)
                session.add(alert)
                opened.append(alert)
    for alert in opened:
        notify(alert)
    return opened


def send_webhook(url: str | None, alert: Alert) -> None:
    """POST the alert as JSON; a dead webhook is logged, never allowed to stop alerting."""
    if not url:
        return
    body = {
        "node_id": alert.node_id,
        "kind": alert.kind,
        "message": alert.message,
        "opened_at": alert.opened_at.isoformat(),
    }
    try:
        httpx.post(url, json=body, timeout=5.0).raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("alert webhook %s failed: %s", url, exc)
