"""Telling an operator, before saving, what a new or edited entry would push aside.

The candidate is compiled with and without it on every node it reaches; any drop, cut or
move that only happens with it is a conflict (either the candidate loses, or it wins over
someone). Window-edge clipping and missing media are not conflicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from schedules.compiler import compile_group, group_nodes
from schedules.entries import ProgrammeSlot, ScheduleEntry
from schedules.expansion import ExpandedCalendar
from schedules.results import Bump, BumpReason, Conflict

_NOT_CONFLICTS = (BumpReason.WINDOW_EDGE, BumpReason.MEDIA_NOT_READY)


def check_conflicts(
    candidate: ScheduleEntry,
    entries: Iterable[ScheduleEntry],
    nodes: Mapping[str, frozenset[str]],
    window: tuple[datetime, datetime],
    *,
    slots: Sequence[ProgrammeSlot] = (),
) -> list[Conflict]:
    """Conflicts the candidate causes or suffers on each node it targets, in time order.

    An existing entry with the candidate's id is replaced (that is an edit). ``nodes`` maps
    node ids to their zones, ancestors included.
    """
    others = [e for e in entries if e.id != candidate.id]
    with_it = ExpandedCalendar([*others, candidate], slots, *window)
    without = ExpandedCalendar(others, slots, *window)
    reached = {
        node_id: zones
        for node_id, zones in nodes.items()
        if candidate.targets.reach(node_id, zones)
    }
    conflicts: list[Conflict] = []
    for shared, members in group_nodes(reached, with_it.entries.values()).items():
        after = compile_group(with_it, [with_it.entries[i] for i in sorted(shared)]).bumped
        before_ids = sorted(shared - {candidate.id})
        before = compile_group(without, [without.entries[i] for i in before_ids]).bumped
        new = _new_bumps(before, after)
        for node_id in members:
            conflicts.extend(_as_conflict(node_id, bump) for bump in new)
    conflicts.sort(key=lambda c: (c.start, c.node_id, c.loser_item))
    return conflicts


def _new_bumps(before: list[Bump], after: list[Bump]) -> list[Bump]:
    seen = {(b.item_id, b.action, b.reason, b.winner_item) for b in before}
    return [
        b
        for b in after
        if b.reason not in _NOT_CONFLICTS
        and (b.item_id, b.action, b.reason, b.winner_item) not in seen
    ]


def _as_conflict(node_id: str, bump: Bump) -> Conflict:
    return Conflict(
        node_id=node_id,
        start=bump.start,
        end=bump.end,
        loser_item=bump.item_id,
        winner_item=bump.winner_item,
        reason=f"{bump.action.value}: {bump.reason.value}",
    )
