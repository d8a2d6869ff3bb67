"""Compile the calendar stored in the database into per-node playlists for a window.

All the calendar logic (recurrence, slots, priorities, overlaps) is in ``schedules``; this
module only reads what it needs in one session — the zone tree, each node's zones with
their ancestors, the active entries and slots — and hands it to ``compile_fleet``, which
compiles once per group of nodes receiving the same entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Node, NodeZone
from controller.services import multilingual
from controller.services.horn import node_policies
from controller.services.schedule_store import Calendar, load_calendar
from controller.services.zones import ZoneTree
from schedules import CompileResult, compile_fleet
from schedules.quiet_hours import apply_horn_policy


def fleet_zones(
    session: Session, node_ids: Iterable[str] | None = None
) -> dict[str, frozenset[str]]:
    """``node_id -> every zone it is in`` (home, extra, ancestors) for active nodes.

    Two queries whatever the fleet size (no per-node lazy loads).
    """
    tree = ZoneTree.load(session)
    query = select(Node.id, Node.zone_id).where(Node.revoked_at.is_(None))
    wanted = None if node_ids is None else list(node_ids)
    if wanted is not None:
        query = query.where(Node.id.in_(wanted))
    direct: dict[str, list[str]] = defaultdict(list)
    for node_id, zone_id in session.execute(query):
        direct[node_id].append(zone_id)
    extra = select(NodeZone.node_id, NodeZone.zone_id)
    if wanted is not None:
        extra = extra.where(NodeZone.node_id.in_(wanted))
    for node_id, zone_id in session.execute(extra):
        if node_id in direct:
            direct[node_id].append(zone_id)
    ancestors: dict[str, list[str]] = {}
    result: dict[str, frozenset[str]] = {}
    for node_id, zones in direct.items():
        found: set[str] = set()
        for zone_id in zones:
            if zone_id not in ancestors:
                ancestors[zone_id] = tree.ancestors_and_self(zone_id)
            found.update(ancestors[zone_id])
        result[node_id] = frozenset(found)
    return result


def compile_calendar(
    calendar: Calendar,
    nodes: Mapping[str, frozenset[str]],
    window_start: datetime,
    window_end: datetime,
) -> dict[str, CompileResult]:
    """Playlists of ``nodes`` for ``[window_start, window_end)``; raises ``ScheduleError``."""
    return compile_fleet(nodes, calendar.entries, window_start, window_end, slots=calendar.slots)


def build_playlists(
    session: Session,
    now: datetime,
    window_start: datetime,
    window_end: datetime,
    node_ids: Iterable[str] | None = None,
) -> dict[str, CompileResult]:
    """Read nodes and calendar and compile (all active nodes when ``node_ids`` is None);
    each node's caps and quiet hours are applied (``services.horn``)."""
    nodes = fleet_zones(session, node_ids)
    calendar = multilingual.expand(session, load_calendar(session, now), nodes)
    results = compile_calendar(calendar, nodes, window_start, window_end)
    return with_horn_policies(session, nodes, results)


def with_horn_policies(
    session: Session, nodes: Mapping[str, frozenset[str]], results: dict[str, CompileResult]
) -> dict[str, CompileResult]:
    """``results`` with each node's volume cap and quiet hours applied (in place)."""
    for node_id, policy in node_policies(session, nodes).items():
        if node_id in results:
            results[node_id] = apply_horn_policy(results[node_id], policy)
    return results
