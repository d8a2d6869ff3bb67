"""Which zones a caller may ask a report upward for, and the report for one of them.

A commune user may report on their commune; a province (or district) user on each of their
communes and on the province as a whole. The panel and the JSON API both ask here, so they
offer and refuse the same zones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.config import ControllerSettings
from controller.db.models import Zone
from controller.services.reports import upward
from controller.services.reports.period import Period
from controller.services.zones import COMMUNE_KINDS, ZoneTree


def choosable(session: Session, scope: Scope) -> list[Zone]:
    """Communes in scope, and the zones above communes (province, district) in scope."""
    tree = ZoneTree.load(session)
    every = list(session.scalars(select(Zone).order_by(Zone.name)))
    zones = [z for z in every if scope.allows_zone(z.id)]
    communes = {z.id for z in every if z.kind in COMMUNE_KINDS}
    found = [
        z
        for z in zones
        if z.id in communes or (tree.descendants_and_self(z.id) - {z.id}) & communes
    ]
    # Deployments may label levels differently: then every zone in scope is offered.
    return found or zones


def report_for(
    session: Session,
    scope: Scope,
    zone_id: str,
    period: Period,
    settings: ControllerSettings,
    now: datetime,
) -> upward.UpwardReport | None:
    """The report, or None when the zone is unknown or outside the caller's scope."""
    zone = session.get(Zone, zone_id)
    if zone is None or not scope.allows_zone(zone_id):
        return None
    return upward.build(
        session,
        zone,
        period,
        now,
        heartbeat_interval_s=settings.heartbeat_interval_s,
        heartbeat_keep=timedelta(days=settings.heartbeat_retention_days),
    )
