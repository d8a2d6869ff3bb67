"""A zone's week as its loudspeakers will play it: the compiled calendar, not the raw rows.

The stored entries (announcements and schedule entries) are compiled for the zone's nodes
over the week with the same code that builds the published playlists, so recurring rules,
slots and priorities show exactly as they will air. Occurrences that several nodes share
are merged into one line with the node count.

What is already over is shown only when the playback log has it (``played``): a rule
created in the evening also "occurs" that morning on paper, but that never aired, so it is
left out rather than shown as if it will.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import PlaybackEvent
from controller.services import multilingual
from controller.services.playlist_builder import (
    compile_calendar,
    fleet_zones,
    with_horn_policies,
)
from controller.services.schedule_store import load_calendar
from schedules import OnceRule, Rule, ScheduleEntry


@dataclass(frozen=True)
class EntryInfo:
    """What the week view needs to offer controls on one calendar entry."""

    id: str
    title: str
    recurring: bool
    movable: bool
    """False for entries packed into a slot: their time comes from the slot."""
    editable: bool
    """The viewer's scope covers every target (operators only act inside their communes)."""
    time: time | None
    rule: Rule | None = None


@dataclass(frozen=True)
class Occurrence:
    entry: EntryInfo
    start: datetime
    end: datetime
    title: str
    node_ids: tuple[str, ...]
    item_id: str = ""
    played: bool = False
    """Started or finished on at least one of its nodes (from the playback log)."""


def _info(entry: ScheduleEntry, scope: Scope) -> EntryInfo:
    rule = entry.rule
    return EntryInfo(
        id=entry.id,
        title=entry.title,
        recurring=rule is not None and not isinstance(rule, OnceRule),
        movable=entry.slot is None and rule is not None and rule.time is not None,
        editable=scope.allows_targets(list(entry.targets.zones), list(entry.targets.nodes)),
        time=rule.time if rule is not None else None,
        rule=rule,
    )


def entry_id_of(item_id: str) -> str:
    """``ann-7@20250101T003000Z#0`` → ``ann-7`` (see ``schedules.placement.occurrence_id``)."""
    return item_id.split("@", 1)[0]


def week_occurrences(
    session: Session,
    now: datetime,
    begin: datetime,
    node_ids: list[str],
    scope: Scope,
    days: int = 7,
) -> list[Occurrence]:
    """Every item the nodes play in ``[begin, begin + days)``, oldest first, nodes merged."""
    if not node_ids:
        return []
    zones = fleet_zones(session, node_ids)
    calendar = multilingual.expand(session, load_calendar(session, now), zones)
    infos = {e.id: _info(e, scope) for e in calendar.entries}
    results = compile_calendar(calendar, zones, begin, begin + timedelta(days=days))
    results = with_horn_policies(session, zones, results)  # quiet hours: not shown as playing
    shared: dict[tuple[str, datetime], list[str]] = defaultdict(list)
    items = {}
    for node_id, result in results.items():
        for item in result.items:
            key = (item.id, item.start)
            shared[key].append(node_id)
            items[key] = item
    out = []
    for key, nodes in shared.items():
        item = items[key]
        entry_id = entry_id_of(item.id)
        info = infos.get(entry_id)
        if info is None:
            continue
        end = item.start + timedelta(seconds=item.duration_s)
        title = item.title or info.title
        out.append(Occurrence(info, item.start, end, title, tuple(sorted(nodes)), item.id))
    out = _with_log(session, out, now)
    out.sort(key=lambda o: (o.start, o.entry.id))
    return out


PLAYED_KINDS = ("started", "finished")


def _with_log(session: Session, found: list[Occurrence], now: datetime) -> list[Occurrence]:
    """Mark what the log says played; drop what is over without having played."""
    begun = [o.item_id for o in found if o.start <= now]
    played: set[str] = set()
    for chunk in range(0, len(begun), 500):
        query = select(PlaybackEvent.item_id).where(
            PlaybackEvent.item_id.in_(begun[chunk : chunk + 500]),
            PlaybackEvent.kind.in_(PLAYED_KINDS),
        )
        played |= {item for item in session.scalars(query.distinct()) if item}
    kept = []
    for o in found:
        if o.item_id in played:
            kept.append(replace(o, played=True))
        elif o.end > now:
            kept.append(o)
    return kept
