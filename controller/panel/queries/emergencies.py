"""Emergencies as a user may see them: those reaching their communes, nodes filtered to scope."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import Emergency
from controller.services.emergency import NodeStatus, node_statuses

STATES = ("pending", "received", "playing", "finished", "failed", "expired")


@dataclass(frozen=True)
class EmergencySummary:
    row: Emergency
    active: bool
    nodes: list[NodeStatus]
    counts: dict[str, int] = field(default_factory=dict)


def _visible(scope: Scope, row: Emergency, nodes: list[NodeStatus]) -> bool:
    return scope.sees(row.zone_ids, [n.node_id for n in nodes])


def _summary(
    scope: Scope, row: Emergency, all_nodes: list[NodeStatus], now: datetime
) -> EmergencySummary:
    nodes = [n for n in all_nodes if scope.allows_node(n.node_id)]
    active = row.cancelled_at is None and now < row.expires_at
    counts = Counter(n.state for n in nodes)
    return EmergencySummary(row, active, nodes, {s: counts.get(s, 0) for s in STATES})


def recent(
    session: Session, scope: Scope, now: datetime, limit: int = 30
) -> list[EmergencySummary]:
    """Newest first, active ones before finished ones, with per-state node counts."""
    rows = session.scalars(select(Emergency).order_by(Emergency.issued_at.desc()).limit(limit))
    found = []
    for row in rows:
        all_nodes = node_statuses(session, row, now)
        if _visible(scope, row, all_nodes):
            found.append(_summary(scope, row, all_nodes, now))
    return sorted(found, key=lambda s: not s.active)


def one(
    session: Session, scope: Scope, emergency_id: str, now: datetime
) -> EmergencySummary | None:
    """The emergency if it exists and reaches the user's communes, else None (404)."""
    row = session.get(Emergency, emergency_id)
    if row is None:
        return None
    all_nodes = node_statuses(session, row, now)
    return _summary(scope, row, all_nodes, now) if _visible(scope, row, all_nodes) else None
