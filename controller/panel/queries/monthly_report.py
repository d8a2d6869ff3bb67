"""The monthly report a commune sends up: per node, items planned vs played vs failed.

Planned counts the one-off announcements whose start falls in the month and whose targets
reach the node (zone targets reach every node below them). Played counts distinct items the
node reported ``finished``; failed counts ``failed``/``missed``/``skipped`` events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db.models import Announcement, Node, PlaybackEvent, Zone
from controller.panel.timefmt import local_midnight_utc
from controller.services.zones import ZoneTree, node_zone_ids, nodes_reached

FAILED = ("failed", "missed", "skipped")


@dataclass(frozen=True)
class ReportRow:
    node_id: str
    name: str
    planned: int
    played: int
    failed: int

    @property
    def rate(self) -> float | None:
        return self.played / self.planned if self.planned else None


@dataclass(frozen=True)
class MonthlyReport:
    commune: Zone
    month: date
    rows: list[ReportRow]

    @property
    def total(self) -> ReportRow:
        return ReportRow(
            "",
            "",
            sum(r.planned for r in self.rows),
            sum(r.played for r in self.rows),
            sum(r.failed for r in self.rows),
        )


def month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return local_midnight_utc(first), local_midnight_utc(following)


def build(session: Session, commune: Zone, month: date) -> MonthlyReport:
    start, end = month_bounds(month)
    tree = ZoneTree.load(session)
    node_ids = sorted(nodes_reached(session, tree, [commune.id], []))
    nodes = {n.id: n for n in session.scalars(select(Node).where(Node.id.in_(node_ids)))}
    anns = list(
        session.scalars(
            select(Announcement).where(
                Announcement.cancelled_at.is_(None),
                Announcement.start >= start,
                Announcement.start < end,
            )
        )
    )
    played = dict(
        session.execute(
            select(PlaybackEvent.node_id, func.count(func.distinct(PlaybackEvent.item_id)))
            .where(
                PlaybackEvent.node_id.in_(node_ids),
                PlaybackEvent.kind == "finished",
                PlaybackEvent.at >= start,
                PlaybackEvent.at < end,
            )
            .group_by(PlaybackEvent.node_id)
        ).all()
    )
    failed = dict(
        session.execute(
            select(PlaybackEvent.node_id, func.count())
            .where(
                PlaybackEvent.node_id.in_(node_ids),
                PlaybackEvent.kind.in_(FAILED),
                PlaybackEvent.at >= start,
                PlaybackEvent.at < end,
            )
            .group_by(PlaybackEvent.node_id)
        ).all()
    )
    rows = []
    for node_id in node_ids:
        node = nodes[node_id]
        zones = node_zone_ids(session, tree, node)
        planned = sum(
            1 for a in anns if any(t.node_id == node_id or (t.zone_id in zones) for t in a.targets)
        )
        rows.append(
            ReportRow(
                node_id,
                node.name,
                planned,
                int(played.get(node_id, 0)),
                int(failed.get(node_id, 0)),
            )
        )
    return MonthlyReport(commune, month.replace(day=1), rows)
