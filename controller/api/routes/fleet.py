"""The fleet at a glance: online counts per zone, and the open alerts."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select

from controller.api.deps import SessionDep, Viewer
from controller.api.scoping import ScopeDep
from controller.db.models import Alert, Node

router = APIRouter(prefix="/api/v1", tags=["fleet"])


class FleetOut(BaseModel):
    total: int
    online: int
    offline: int
    revoked: int
    by_zone: dict[str, dict[str, int]]


class AlertOut(BaseModel):
    id: int
    node_id: str | None
    kind: str
    message: str
    opened_at: datetime
    closed_at: datetime | None


@router.get("/fleet")
def fleet(session: SessionDep, _: Viewer, scope: ScopeDep) -> FleetOut:
    is_revoked = Node.revoked_at.is_not(None)
    query = select(Node.zone_id, Node.online, is_revoked, func.count())
    if not scope.everything:
        query = query.where(Node.id.in_(scope.node_ids))
    rows = session.execute(query.group_by(Node.zone_id, Node.online, is_revoked)).all()
    by_zone: dict[str, dict[str, int]] = {}
    totals = {"online": 0, "offline": 0, "revoked": 0}
    for zone_id, online, revoked, count in rows:
        key = "revoked" if revoked else ("online" if online else "offline")
        by_zone.setdefault(zone_id, {"online": 0, "offline": 0, "revoked": 0})[key] += count
        totals[key] += count
    return FleetOut(total=sum(totals.values()), by_zone=by_zone, **totals)


@router.get("/alerts")
def alerts(
    session: SessionDep, _: Viewer, scope: ScopeDep, open_only: bool = True, limit: int = 200
) -> list[AlertOut]:
    query = select(Alert).order_by(Alert.opened_at.desc()).limit(min(max(limit, 1), 2000))
    if not scope.everything:
        query = query.where(Alert.node_id.in_(scope.node_ids))
    if open_only:
        query = query.where(Alert.closed_at.is_(None))
    return [
        AlertOut(
            id=a.id,
            node_id=a.node_id,
            kind=a.kind,
            message=a.message,
            opened_at=a.opened_at,
            closed_at=a.closed_at,
        )
        for a in session.scalars(query)
    ]
