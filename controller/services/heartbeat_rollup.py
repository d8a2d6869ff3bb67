"""Heartbeats rolled up per node and hour: a year of history in small rows.

Raw heartbeats (full snapshots, deltas already merged) are kept for a day so the panel can
chart the last hours; the retention job then folds every whole hour older than that into
one :class:`HeartbeatHourly` row per node - how many heartbeats came, how long the node
was heard, and min/max/sum/count of each measured value - and deletes the raw rows in the
same transaction (so nothing is counted twice or lost; a late heartbeat for an hour
already folded is added to that hour's row).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from controller.db.models import Heartbeat, HeartbeatHourly

MEASURED = (
    "cpu_temp_c", "load1", "mem_used_pct", "disk_free_mb", "clock_offset_ms", "link_quality",
    "outbox_pending", "volume",
)  # fmt: skip


@dataclass
class _Hour:
    samples: int = 0
    online_s: float = 0.0
    stats: dict[str, list[float]] = field(default_factory=dict)

    def add_values(self, data: dict[str, Any]) -> None:
        for key in MEASURED:
            value = data.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.merge_stat(key, [value, value, value, 1])

    def merge_stat(self, key: str, other: list[float]) -> None:
        mine = self.stats.get(key)
        if mine is None:
            self.stats[key] = list(other)
        else:
            self.stats[key] = [
                min(mine[0], other[0]), max(mine[1], other[1]), mine[2] + other[2],
                mine[3] + other[3],
            ]  # fmt: skip


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def roll_up(
    session: Session, before: datetime, allowed_silence_s: Any, batch: int = 5000
) -> tuple[int, int]:
    """Fold raw heartbeats sent before ``before`` (cut to a whole hour) into hourly rows and
    delete them; return (raw rows folded, hourly rows written). ``allowed_silence_s(data)``
    is how long a gap still counts as heard (the liveness rule's own allowance)."""
    cutoff = hour_of(before)
    hours: dict[tuple[str, datetime], _Hour] = defaultdict(_Hour)
    previous: dict[str, tuple[datetime, float]] = {}
    folded = 0
    rows = session.execute(
        select(Heartbeat.node_id, Heartbeat.sent_at, Heartbeat.data)
        .where(Heartbeat.sent_at < cutoff)
        .order_by(Heartbeat.node_id, Heartbeat.sent_at)
        .execution_options(yield_per=batch)
    )
    for node_id, sent_at, data in rows:
        folded += 1
        bucket = hours[(node_id, hour_of(sent_at))]
        bucket.samples += 1
        bucket.add_values(data or {})
        last = previous.get(node_id)
        if last is not None:
            _heard(hours, node_id, last[0], min(sent_at, last[0] + timedelta(seconds=last[1])))
        previous[node_id] = (sent_at, float(allowed_silence_s(data or {})))
    # Each node's last folded heartbeat is heard until the next (still raw) one, at most its
    # allowance: that span may reach into hours not yet folded, whose raw rows only count
    # from their own first heartbeat on, so nothing is counted twice or lost.
    following = dict(
        session.execute(
            select(Heartbeat.node_id, func.min(Heartbeat.sent_at))
            .where(Heartbeat.sent_at >= cutoff, Heartbeat.node_id.in_(list(previous)))
            .group_by(Heartbeat.node_id)
        ).all()
    )
    for node_id, (sent_at, allowance) in previous.items():
        until = sent_at + timedelta(seconds=allowance)
        nxt = following.get(node_id)
        _heard(hours, node_id, sent_at, min(until, nxt) if nxt is not None else until)
    for (node_id, hour), bucket in hours.items():
        row = session.get(HeartbeatHourly, (node_id, hour))
        if row is None:
            session.add(
                HeartbeatHourly(
                    node_id=node_id,
                    hour=hour,
                    samples=bucket.samples,
                    online_s=min(bucket.online_s, 3600.0),
                    stats=bucket.stats,
                )
            )
            continue
        for key, stat in (row.stats or {}).items():
            bucket.merge_stat(key, stat)
        row.samples += bucket.samples
        row.online_s = min(row.online_s + bucket.online_s, 3600.0)
        row.stats = bucket.stats
    if folded:
        session.execute(delete(Heartbeat).where(Heartbeat.sent_at < cutoff))
    return folded, len(hours)


def _heard(
    hours: dict[tuple[str, datetime], _Hour], node_id: str, since: datetime, until: datetime
) -> None:
    """Credit ``[since, until)`` as heard to each hour it covers."""
    while since < until:
        hour = hour_of(since)
        upto = min(until, hour + timedelta(hours=1))
        hours[(node_id, hour)].online_s += (upto - since).total_seconds()
        since = upto


def prune_hourly(session: Session, before: datetime) -> int:
    result = session.execute(delete(HeartbeatHourly).where(HeartbeatHourly.hour < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
