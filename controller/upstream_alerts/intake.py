"""Accept one upstream alert: de-duplicate, apply Update/Cancel, then broadcast or record why not.

The alert's row is inserted *before* anything is broadcast, under a unique
(sender, identifier): a resent or concurrently posted alert finds it and broadcasts nothing.
If the broadcast itself fails (speech synthesis down) the row is removed so upstream may retry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from controller.db.models import Announcement, Node, UpstreamAlert, ZoneGeocode
from controller.services.announcements import Targets, create_text_announcement
from controller.services.bulletins import record_upstream_alert
from controller.services.emergency import (
    MAX_ACTIVE,
    EmergencyNotFound,
    EmergencyRequest,
    cancel_emergency,
    issue_emergency,
)
from controller.services.zones import ZoneTree, nodes_reached
from controller.upstream_alerts.mapping import BroadcastKind, Decision, ZoneMap, decide
from controller.upstream_alerts.model import CapAlert
from protocol.models import Priority

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from controller.services.container import Controller

REPEAT_EVERY = timedelta(minutes=5)
"""An emergency alert with an expiry is read again this often until it expires."""
REPEAT_WITHOUT_EXPIRY = 3


@dataclass(frozen=True)
class IntakeResult:
    outcome: str
    """emergency | announcement | cancelled | ignored"""
    reason: str = ""
    duplicate: bool = False
    emergency_id: str | None = None
    announcement_id: int | None = None
    zones: list[str] = field(default_factory=list)


def accept_alert(ctl: Controller, alert: CapAlert, fmt: str, by: str | None) -> IntakeResult:
    now = ctl.clock.now()
    row_id = _claim(ctl, alert, fmt, now)
    if row_id is None:
        return _duplicate(ctl, alert)
    try:
        result = _apply(ctl, alert, now, by)
    except Exception:
        with ctl.sessions.begin() as session:
            session.delete(session.get_one(UpstreamAlert, row_id))
        raise
    with ctl.sessions.begin() as session:
        row = session.get_one(UpstreamAlert, row_id)
        row.outcome = result.outcome
        row.reason = result.reason[:500]
        row.emergency_id = result.emergency_id
        row.announcement_id = result.announcement_id
    if result.outcome in ("emergency", "announcement"):
        # the same inbox as bulletins from the province, with the alert's level
        record_upstream_alert(
            ctl,
            fmt=fmt,
            zone_ids=result.zones,
            upstream_alert_id=row_id,
            announcement_id=result.announcement_id,
            emergency_id=result.emergency_id,
            by=by,
        )
    return result


def _claim(ctl: Controller, alert: CapAlert, fmt: str, now: datetime) -> int | None:
    try:
        with ctl.sessions.begin() as session:
            row = UpstreamAlert(
                sender=alert.sender[:200],
                identifier=alert.identifier[:200],
                sent=alert.sent,
                msg_type=alert.msg_type,
                status=alert.status,
                expires=alert.expires(),
                fmt=fmt,
                outcome="pending",
                reason="",
                received_at=now,
            )
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        return None


def _duplicate(ctl: Controller, alert: CapAlert) -> IntakeResult:
    with ctl.sessions() as session:
        row = _find(session, alert.sender, alert.identifier)
        outcome = row.outcome if row else "pending"
        return IntakeResult(
            outcome,
            "already received: nothing broadcast again",
            duplicate=True,
            emergency_id=row.emergency_id if row else None,
            announcement_id=row.announcement_id if row else None,
        )


def _find(session: Session, sender: str, identifier: str) -> UpstreamAlert | None:
    return session.scalar(
        select(UpstreamAlert).where(
            UpstreamAlert.sender == sender, UpstreamAlert.identifier == identifier
        )
    )


def _apply(ctl: Controller, alert: CapAlert, now: datetime, by: str | None) -> IntakeResult:
    stopped = _stop_referenced(ctl, alert) if alert.msg_type in ("Update", "Cancel") else []
    if alert.msg_type == "Cancel":
        what = ", ".join(stopped) or "nothing was active"
        return IntakeResult("cancelled", f"stopped: {what}")
    if alert.msg_type not in ("Alert", "Update"):
        return IntakeResult("ignored", f"msgType {alert.msg_type} is not broadcast")
    if alert.status != "Actual":
        return IntakeResult("ignored", f"status {alert.status}: not broadcast")
    expires = alert.expires()
    if expires is not None and expires <= now:
        return IntakeResult("ignored", f"expired at {expires.isoformat()}")
    with ctl.sessions() as session:
        decision = decide(alert, _zone_map(session))
    if decision is None:
        return IntakeResult("ignored", "no info block in Vietnamese (language vi-VN)")
    if not decision.zones:
        return IntakeResult("ignored", "no area maps to a zone (geocode or node in polygon)")
    if not decision.text:
        return IntakeResult("ignored", "nothing to read: no headline, description or event")
    if decision.kind is BroadcastKind.EMERGENCY:
        return _emergency(ctl, decision, now, by)
    return _announcement(ctl, decision, now, by)


def _stop_referenced(ctl: Controller, alert: CapAlert) -> list[str]:
    stopped: list[str] = []
    for ref in alert.references:
        with ctl.sessions.begin() as session:
            row = _find(session, ref.sender, ref.identifier)
            if row is None:
                continue
            emergency_id, announcement_id = row.emergency_id, row.announcement_id
            if announcement_id is not None:
                ann = session.get(Announcement, announcement_id)
                if ann is not None and ann.cancelled_at is None:
                    ann.cancelled_at = ctl.clock.now()
                    stopped.append(f"announcement {announcement_id}")
                    nodes = _announcement_nodes(session, ann)
                else:
                    nodes = []
        if announcement_id is not None and nodes:
            ctl.publisher.refresh(nodes)
        if emergency_id is not None:
            try:
                cancel_emergency(ctl, emergency_id, by=f"cap:{alert.identifier}"[:100])
                stopped.append(f"emergency {emergency_id}")
            except EmergencyNotFound:
                pass
    return stopped


def _announcement_nodes(session: Session, ann: Announcement) -> list[str]:
    zones = [t.zone_id for t in ann.targets if t.zone_id]
    singles = [t.node_id for t in ann.targets if t.node_id]
    return sorted(nodes_reached(session, ZoneTree.load(session), zones, singles))


def _zone_map(session: Session) -> ZoneMap:
    geocodes: dict[tuple[str, str], set[str]] = {}
    for g in session.scalars(select(ZoneGeocode)):
        geocodes.setdefault((g.value_name, g.value), set()).add(g.zone_id)
    located = session.execute(
        select(Node.zone_id, Node.lat, Node.lon).where(
            Node.lat.is_not(None), Node.lon.is_not(None), Node.revoked_at.is_(None)
        )
    )
    points = [
        (zone, (lat, lon)) for zone, lat, lon in located if lat is not None and lon is not None
    ]
    return ZoneMap(geocodes, points)


def _emergency(ctl: Controller, d: Decision, now: datetime, by: str | None) -> IntakeResult:
    until = min(d.expires, now + MAX_ACTIVE) if d.expires else None
    if until is None:
        request = EmergencyRequest(
            d.zones, text=d.text, title=d.title, repeat=REPEAT_WITHOUT_EXPIRY
        )
    else:
        plays = max(2, min(1000, math.ceil((until - now) / REPEAT_EVERY)))
        request = EmergencyRequest(
            d.zones,
            text=d.text,
            title=d.title,
            repeat=plays,
            repeat_every_s=REPEAT_EVERY.total_seconds(),
            until=until,
        )
    view = issue_emergency(ctl, replace(request, source="upstream"), created_by=by)
    return IntakeResult("emergency", "", emergency_id=view.row.id, zones=d.zones)


def _announcement(ctl: Controller, d: Decision, now: datetime, by: str | None) -> IntakeResult:
    start = now + timedelta(seconds=ctl.settings.immediate_lead_s)
    with ctl.sessions() as session:
        ann = create_text_announcement(
            session,
            ctl.renderer,
            text=d.text,
            targets=Targets(d.zones, []),
            start=start,
            now=now,
            title=d.title,
            priority=Priority.ANNOUNCEMENT,
            created_by=by,
        )
        ann.valid_until = d.expires
        session.commit()
        ann_id = ann.id
        nodes = _announcement_nodes(session, ann)
    ctl.publisher.refresh(nodes)
    return IntakeResult("announcement", "", announcement_id=ann_id, zones=d.zones)
