"""Horn safety on the controller: each node's effective volume cap and quiet hours.

A node's cap is the lowest of its own ``volume_cap`` and every enclosing zone's (home zone,
extra zones, all their ancestors); its quiet hours are every window of those zones. The
playlist builder applies them (``schedules.quiet_hours.apply_horn_policy``), commands are
capped here before they are signed, and scheduling refuses entries that fall in quiet hours.
The agent enforces the cap and windows again from its playlist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Node, Zone
from controller.services.zones import ZoneTree
from protocol.quiet_hours import LOCAL_TZ, QuietHoursError, QuietWindow, parse_quiet_hours
from schedules import ProgrammeSlot, ScheduleEntry
from schedules.quiet_hours import HornPolicy, QuietHit, quiet_hits, quiet_message

QUIET_CHECK_DAYS = 35
"""How far ahead a new entry's occurrences are checked against quiet hours."""


class QuietHoursConflict(ValueError):
    """A non-emergency entry falls in a target's quiet hours (the message says when)."""

    def __init__(self, message: str, hits: list[QuietHit]) -> None:
        super().__init__(message)
        self.hits = hits

    @property
    def when(self) -> str:
        """The first hits as local times with their window, for translated messages."""
        shown = [f"{h.start.astimezone(LOCAL_TZ):%d/%m/%Y %H:%M} ({h.window})" for h in self.hits]
        return ", ".join(shown[:3]) + (" …" if len(shown) > 3 else "")


def _zone_rules(session: Session) -> tuple[dict[str, int], dict[str, tuple[QuietWindow, ...]]]:
    caps: dict[str, int] = {}
    quiet: dict[str, tuple[QuietWindow, ...]] = {}
    rows = session.execute(
        select(Zone.id, Zone.volume_cap, Zone.quiet_hours).where(
            Zone.volume_cap.is_not(None) | Zone.quiet_hours.is_not(None)
        )
    )
    for zone_id, cap, text in rows:
        if cap is not None:
            caps[zone_id] = cap
        try:
            windows = parse_quiet_hours(text)
        except QuietHoursError:
            continue  # only valid text is ever stored; a hand-edited row is ignored, not fatal
        if windows:
            quiet[zone_id] = windows
    return caps, quiet


def node_policies(session: Session, nodes: Mapping[str, frozenset[str]]) -> dict[str, HornPolicy]:
    """``node_id -> HornPolicy`` for nodes given with all their zones (ancestors included)."""
    zone_caps, zone_quiet = _zone_rules(session)
    node_caps: dict[str, int] = {}
    if nodes:
        query = select(Node.id, Node.volume_cap).where(Node.volume_cap.is_not(None))
        node_caps = {n: c for n, c in session.execute(query) if n in nodes and c is not None}
    if not zone_caps and not zone_quiet and not node_caps:
        return {}
    policies: dict[str, HornPolicy] = {}
    for node_id, zones in nodes.items():
        caps = [zone_caps[z] for z in zones if z in zone_caps]
        if node_id in node_caps:
            caps.append(node_caps[node_id])
        windows = sorted({w for z in zones for w in zone_quiet.get(z, ())})
        policy = HornPolicy(min(caps) if caps else None, tuple(windows))
        if not policy.empty:
            policies[node_id] = policy
    return policies


def zone_cap(session: Session, zone_id: str) -> int | None:
    """The cap of a zone command: the zone's own and its ancestors' lowest (a node below may
    have a lower one; its agent applies that from its playlist)."""
    tree = ZoneTree.load(session)
    chain = tree.ancestors_and_self(zone_id)
    found = session.scalars(select(Zone.volume_cap).where(Zone.id.in_(chain)))
    caps = [c for c in found if c is not None]
    return min(caps) if caps else None


def node_cap(session: Session, node_id: str) -> int | None:
    """A single node's effective cap (its own and all its zones')."""
    node = session.get(Node, node_id)
    if node is None:
        return None
    tree = ZoneTree.load(session)
    direct = [node.zone_id, *(m.zone_id for m in node.extra_zones)]
    zones = {z for d in direct for z in tree.ancestors_and_self(d)}
    found = session.scalars(select(Zone.volume_cap).where(Zone.id.in_(zones)))
    caps = [c for c in found if c is not None]
    if node.volume_cap is not None:
        caps.append(node.volume_cap)
    return min(caps) if caps else None


def capped(volume: int | None, cap: int | None) -> int | None:
    if volume is None or cap is None:
        return volume
    return min(volume, cap)


def check_quiet_hours(
    session: Session,
    entry: ScheduleEntry,
    nodes: Mapping[str, frozenset[str]],
    now: datetime,
    slots: Iterable[ProgrammeSlot] = (),
) -> None:
    """Raise :class:`QuietHoursConflict` if the entry plays in any reached node's quiet hours
    within the next ``QUIET_CHECK_DAYS`` days. ``nodes`` maps node ids to their zones."""
    reached = {n: z for n, z in nodes.items() if entry.targets.reach(n, z)}
    _, zone_quiet = _zone_rules(session)
    windows = sorted(
        {w for zones in reached.values() for z in zones for w in zone_quiet.get(z, ())}
    )
    # a target zone with no node yet still has its own (and its ancestors') quiet hours
    tree = ZoneTree.load(session)
    for zone_id in entry.targets.zones:
        for z in tree.ancestors_and_self(zone_id):
            windows.extend(w for w in zone_quiet.get(z, ()) if w not in windows)
    if not windows:
        return
    horizon = (now, now + timedelta(days=QUIET_CHECK_DAYS))
    hits = quiet_hits(entry, windows, horizon, slots=list(slots))
    if hits:
        raise QuietHoursConflict(quiet_message(hits), hits)
