"""The monthly report a commune sends up: per node, items planned vs played vs failed.

Planned is every occurrence meant for the node in the month (see ``planned_items``): each
day of a daily announcement once, plus every play-now item and emergency its command
reached. Played counts the planned occurrences the node reported ``finished`` — so
"played of planned" can never pass 100 %; failed counts planned occurrences that only
reported ``failed``/``missed``/``skipped``. Finished items the plan does not know (an
announcement edited since it aired) are shown apart as "other", never mixed into the rate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Node, PlaybackEvent, Zone
from controller.panel.queries.planned_items import (
    REPORTED_PREFIXES,
    item_languages,
    occurrence_key,
    plan,
)
from controller.panel.timefmt import local_midnight_utc
from controller.services.zones import ZoneTree, nodes_reached

FAILED = ("failed", "missed", "skipped")
LATE_REPORT = timedelta(days=1)
"""An occurrence late in the month may finish (and be reported) after it ends."""


@dataclass(frozen=True)
class ReportRow:
    node_id: str
    name: str
    planned: int
    ad_hoc: int
    played: int
    failed: int
    other: int
    languages: tuple[str, ...] = ()
    """Languages of the items it finished, in first-aired order (Vietnamese, Tày, ...)."""

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
            sum(r.ad_hoc for r in self.rows),
            sum(r.played for r in self.rows),
            sum(r.failed for r in self.rows),
            sum(r.other for r in self.rows),
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
    planned = plan(session, tree, list(nodes.values()), start, end)
    finished: dict[str, set[str]] = defaultdict(set)
    finished_in_month: dict[str, set[str]] = defaultdict(set)
    failed: dict[str, set[str]] = defaultdict(set)
    languages: dict[str, dict[str, None]] = defaultdict(dict)
    events = session.execute(
        select(
            PlaybackEvent.node_id, PlaybackEvent.kind, PlaybackEvent.item_id, PlaybackEvent.at
        ).where(
            PlaybackEvent.node_id.in_(node_ids),
            PlaybackEvent.kind.in_(("finished", *FAILED)),
            PlaybackEvent.item_id.is_not(None),
            PlaybackEvent.at >= start,
            PlaybackEvent.at < end + LATE_REPORT,
        )
    ).all()
    for node_id, kind, item_id, at in events:
        if not item_id or not item_id.startswith(REPORTED_PREFIXES):
            continue
        key = occurrence_key(item_id)
        if kind == "finished":
            finished[node_id].add(key)
            languages[node_id].update(dict.fromkeys(item_languages(item_id)))
            if at < end:
                finished_in_month[node_id].add(key)
        else:
            failed[node_id].add(key)
    rows = []
    for node_id in node_ids:
        keys = planned.keys(node_id)
        played = finished[node_id] & keys
        rows.append(
            ReportRow(
                node_id,
                nodes[node_id].name,
                planned=len(keys),
                ad_hoc=len(planned.ad_hoc.get(node_id, set())),
                played=len(played),
                failed=len((failed[node_id] & keys) - played),
                other=len(finished_in_month[node_id] - keys),
                languages=tuple(languages[node_id]),
            )
        )
    return MonthlyReport(commune, month.replace(day=1), rows)
