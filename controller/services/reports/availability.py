"""Speaker availability from heartbeats: the share of a window in which the node was heard.

An older agent sends a heartbeat every ``heartbeat_interval_s`` and is offline after twice
that; a newer one announces its longest gap (``next_within_s``) and is offline after that
gap plus a grace (protocol/liveness.py, the liveness job's own rule). The report uses the
same rule: each heartbeat counts the node as available from its ``sent_at`` for the silence
its snapshot allows (or until the next heartbeat, if sooner). The window is the period
clipped to when the node existed (created, not revoked), to the past, and to the history
the controller still keeps (``heartbeat_retention_days``) — the report shows how long was
measured.

Raw heartbeats are kept for a day; older ones are folded into hourly rows that carry the
seconds heard under the same rule (services/heartbeat_rollup.py). The two never cover the
same span, so the report adds them: whole hours inside the window are summed by the
database, an hour cut by the window's edge counts its share.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, case, cast, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from controller.db.models import Heartbeat, HeartbeatHourly, Node
from controller.services.heartbeat_rollup import hour_of
from protocol import liveness
from protocol.models import Heartbeat as HeartbeatMsg

HOUR = timedelta(hours=1)
# the longest gap an agent may announce: how far before a window a heartbeat can reach into it
_le = HeartbeatMsg.model_fields["next_within_s"].metadata
MAX_ANNOUNCED_S = float(next(m.le for m in _le if hasattr(m, "le")))


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
    """Per node id. The database sums the coverage (one row per node comes back, however
    many heartbeats there are); nodes sharing a window are asked in one query."""
    grace = timedelta(seconds=2 * interval_s)  # older agents; newer ones: what they announced
    windows = {n.id: node_window(n, start, end, now, keep) for n in nodes}
    result = {n: Availability((hi - lo).total_seconds(), 0.0) for n, (lo, hi) in windows.items()}
    groups: dict[tuple[datetime, datetime], list[str]] = defaultdict(list)
    for node_id, (lo, hi) in windows.items():
        if hi > lo:
            groups[(lo, hi)].append(node_id)
    for (lo, hi), node_ids in groups.items():
        heard = _hourly_heard(session, node_ids, lo, hi)
        for row in session.execute(_covered_query(session, node_ids, lo, hi, grace)):
            heard[row[0]] += float(row[1] or 0)
        for node_id, online in heard.items():
            measured = result[node_id].measured_s
            result[node_id] = Availability(measured, min(measured, round(online, 3)))
    return result


def _hourly_heard(
    session: Session, node_ids: list[str], lo: datetime, hi: datetime
) -> defaultdict[str, float]:
    """Seconds heard in ``[lo, hi)`` from the hourly roll-ups."""
    heard: defaultdict[str, float] = defaultdict(float)
    first_whole = hour_of(lo) if lo == hour_of(lo) else hour_of(lo) + HOUR
    last_whole_end = hour_of(hi)
    if first_whole < last_whole_end:
        whole = (
            select(HeartbeatHourly.node_id, func.sum(HeartbeatHourly.online_s))
            .where(
                HeartbeatHourly.node_id.in_(node_ids),
                HeartbeatHourly.hour >= first_whole,
                HeartbeatHourly.hour < last_whole_end,
            )
            .group_by(HeartbeatHourly.node_id)
        )
        for node_id, seconds in session.execute(whole):
            heard[node_id] += float(seconds or 0)
    edges = {
        h for h in (hour_of(lo), hour_of(hi)) if h < hi and not first_whole <= h < last_whole_end
    }
    if edges:
        cut = select(HeartbeatHourly).where(
            HeartbeatHourly.node_id.in_(node_ids), HeartbeatHourly.hour.in_(sorted(edges))
        )
        for row in session.scalars(cut):
            inside = min(row.hour + HOUR, hi) - max(row.hour, lo)
            heard[row.node_id] += row.online_s * max(0.0, inside / HOUR)
    return heard


def _allowed_silence(base_s: float) -> ColumnElement[float]:
    """:func:`protocol.liveness.silence_allowed_s` of each raw heartbeat's snapshot, in SQL
    (delta rows hold the merged snapshot, so ``next_within_s`` of the last full one)."""
    announced = Heartbeat.data["next_within_s"].as_float()
    share = announced * liveness.SILENCE_GRACE_SHARE
    slack = case((share > liveness.SILENCE_GRACE_S, share), else_=liveness.SILENCE_GRACE_S)
    own = announced + slack
    own = case((own > base_s, own), else_=base_s)
    return case((announced > 0, own), else_=literal(base_s, Float))


def _epoch(session: Session, column: InstrumentedAttribute[datetime]) -> ColumnElement[float]:
    """Seconds since 1970 of a stored UTC time, in SQL (SQLite keeps naive UTC text)."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return cast(func.extract("epoch", column), Float)


def _covered_query(
    session: Session, node_ids: list[str], lo: datetime, hi: datetime, grace: timedelta
) -> Select[tuple[str, Any]]:
    """Σ over heartbeats t of |[t, min(t + grace, next t)) ∩ [lo, hi)| per node.

    The pieces are disjoint because the heartbeats are taken in order, so they simply add up.
    """
    sent = _epoch(session, Heartbeat.sent_at)
    base = grace.total_seconds()
    allowed = _allowed_silence(base)
    reach = timedelta(seconds=max(base, liveness.silence_allowed_s(MAX_ANNOUNCED_S, 0)))
    beats = (
        select(
            Heartbeat.node_id.label("node_id"),
            sent.label("t"),
            func.lead(sent)
            .over(partition_by=Heartbeat.node_id, order_by=Heartbeat.sent_at)
            .label("nxt"),
            allowed.label("g"),
        )
        .where(
            Heartbeat.node_id.in_(node_ids),
            Heartbeat.sent_at >= lo - reach,
            Heartbeat.sent_at < hi,
        )
        .subquery()
    )
    g = beats.c.g
    lo_s = literal(lo.timestamp(), Float)
    hi_s = literal(hi.timestamp(), Float)
    upto = case(
        (beats.c.nxt.is_not(None) & (beats.c.nxt < beats.c.t + g), beats.c.nxt),
        else_=beats.c.t + g,
    )
    upto = case((upto > hi_s, hi_s), else_=upto)
    since = case((beats.c.t < lo_s, lo_s), else_=beats.c.t)
    piece = case((upto > since, upto - since), else_=0.0)
    return select(beats.c.node_id, func.sum(piece)).group_by(beats.c.node_id)
