"""Before saving a recurring announcement: what it would push aside, or lose to, and where.

The same check as ``POST /api/v1/schedules/check`` (``schedules.check_conflicts`` over the
stored calendar), called in-process. The candidate stands in as an audio item of the
length the operator heard in the preview, so no speech is rendered just to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from controller.auth.scope import Scope
from controller.panel.announce import check_targets
from controller.services.container import Controller
from controller.services.playlist_builder import fleet_zones
from controller.services.schedule_store import load_calendar
from protocol.models import ItemKind, MediaRef, Priority
from schedules import ScheduleEntry, Targets, check_conflicts
from schedules.millis import to_ms

CANDIDATE_ID = "panel-candidate"
HORIZON = timedelta(days=8)
"""A weekly rule shows every weekday's clash within the first week."""
_PLACEHOLDER = MediaRef(sha256="0" * 64, ext="mp3", size=0, duration_s=1)


@dataclass(frozen=True)
class Clash:
    """One time the new announcement and an existing entry cannot both play whole."""

    start: datetime
    other_entry: str
    other_title: str
    nodes: tuple[str, ...]
    new_loses: bool


def _candidate(
    targets: Targets, rule: dict[str, Any], duration_s: float, priority: Priority, now: datetime
) -> ScheduleEntry:
    media = _PLACEHOLDER.model_copy(update={"duration_s": min(max(duration_s, 1.0), 86_400)})
    return ScheduleEntry.model_validate(
        {
            "id": CANDIDATE_ID,
            "kind": ItemKind.AUDIO,
            "title": "new",
            "media": media,
            "priority": priority,
            "targets": targets,
            "created_seq": to_ms(now),
            "rule": rule,
        }
    )


def recurring_clashes(
    ctl: Controller,
    scope: Scope,
    target_ids: list[str],
    rule: dict[str, Any],
    duration_s: float,
    priority: Priority,
) -> list[Clash]:
    """Clashes over the next :data:`HORIZON`, one per (other entry, time), nodes merged."""
    now = ctl.clock.now()
    with ctl.sessions() as session:
        resolved = check_targets(session, scope, target_ids)
        nodes = fleet_zones(session)
        calendar = load_calendar(session, now)
    targets = Targets(zones=tuple(resolved.zone_ids), nodes=tuple(resolved.node_ids))
    candidate = _candidate(targets, rule, duration_s, priority, now)
    found = check_conflicts(
        candidate, calendar.entries, nodes, (now, now + HORIZON), slots=calendar.slots
    )
    titles = {e.id: e.title for e in calendar.entries}
    merged: dict[tuple[str, datetime], tuple[bool, set[str]]] = {}
    for c in found:
        new_loses = c.loser_item.startswith(f"{CANDIDATE_ID}@")
        other = (c.winner_item if new_loses else c.loser_item) or ""
        key = (other.split("@", 1)[0], c.start)
        merged.setdefault(key, (new_loses, set()))[1].add(c.node_id)
    return [
        Clash(start, entry, titles.get(entry, entry), tuple(sorted(node_ids)), loses)
        for (entry, start), (loses, node_ids) in sorted(merged.items(), key=lambda kv: kv[0][1])
    ]
