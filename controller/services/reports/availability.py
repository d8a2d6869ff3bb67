"""Speaker availability from heartbeats: the share of a window in which the node was heard.

A node sends a heartbeat every ``heartbeat_interval_s``; the liveness job marks it offline
when it has been silent for twice that. The report uses the same rule: each heartbeat
counts the node as available from its ``sent_at`` for ``2 × interval`` (or until the next
heartbeat, if sooner). The window is the period clipped to when the node existed (created,
not revoked), to the past, and to the heartbeats the controller still keeps
(``heartbeat_retention_days``) — the report shows how long was measured.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Heartbeat, Node


@dataclass(frozen=True)
class Availability:
    """Seconds measured and seconds heard within them."""

    measured_s: float
    online_s: float

    @property
    def pct(self) -> float | None:
        return 100.0 * self.online_s / self.measured_s if self.measured_s > 0 else None

    def __add__(self, other: Availability) -> Availability:
        return Availability(self.measured_s + other.measured_s, self.online_s + other.online_s)


NONE = Availability(0.0, 0.0)


def covered_seconds(
    beats: Iterable[datetime], grace: timedelta, start: datetime, end: datetime
) -> float:
    """Length of the union of ``[t, min(t + grace, next t))`` inside ``[start, end)``.

    ``beats`` must be sorted; the pieces are then disjoint and simply add up.
    """
    total = 0.0
    previous: datetime | None = None
    for beat in (*beats, None):
        if previous is not None:
            upto = previous + grace if beat is None else min(previous + grace, beat)
            lo, hi = max(previous, start), min(upto, end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        previous = beat
    return total


def node_window(
    node: Node, start: datetime, end: datetime, now: datetime, keep: timedelta
) -> tuple[datetime, datetime]:
    """The part of ``[start, end)`` the heartbeats can tell about for this node."""
    lo = max(start, node.created_at, now - keep)
    hi = min(end, now, node.revoked_at or end)
    return lo, max(lo, hi)


def availability(
    session: Session,
    nodes: Sequence[Node],
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    interval_s: float,
    keep: timedelta,
) -> dict[str, Availability]:
    """Per node id; heartbeats are streamed in (node, time) order, never all held at once."""
    grace = timedelta(seconds=2 * interval_s)
    windows = {n.id: node_window(n, start, end, now, keep) for n in nodes}
    result = {n: Availability((hi - lo).total_seconds(), 0.0) for n, (lo, hi) in windows.items()}
    if not windows:
        return result
    query = (
        select(Heartbeat.node_id, Heartbeat.sent_at)
        .where(
            Heartbeat.node_id.in_(sorted(windows)),
            Heartbeat.sent_at >= start - grace,
            Heartbeat.sent_at < end,
        )
        .order_by(Heartbeat.node_id, Heartbeat.sent_at)
        .execution_options(yield_per=10_000)
    )
    current: str | None = None
    beats: list[datetime] = []
    for node_id, sent_at in session.execute(query):
        if node_id != current:
            _settle(result, windows, current, beats, grace)
            current, beats = node_id, []
        beats.append(sent_at)
    _settle(result, windows, current, beats, grace)
    return result


def _settle(
    result: dict[str, Availability],
    windows: dict[str, tuple[datetime, datetime]],
    node_id: str | None,
    beats: list[datetime],
    grace: timedelta,
) -> None:
    if node_id is None:
        return
    lo, hi = windows[node_id]
    result[node_id] = Availability((hi - lo).total_seconds(), covered_seconds(beats, grace, lo, hi))
