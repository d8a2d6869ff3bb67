"""Compiling playlists: one node (:func:`compile_node_playlist`) or a whole fleet at once.

The fleet compile expands every rule once per pass and compiles once per *group* of nodes
that receive exactly the same entries (typically all nodes of one village), so two thousand
nodes cost about as much as the few hundred groups they form. Results are deterministic:
the same entries in any order give the same items and the same ``content_hash``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from protocol.codec import canonical_json
from protocol.models import PlaylistItem
from schedules.entries import ProgrammeSlot, ScheduleEntry
from schedules.expansion import ExpandedCalendar
from schedules.millis import from_ms, to_ms
from schedules.placement import place
from schedules.resolver import Placed, resolve
from schedules.results import CompileResult

_ItemKey = tuple[str, int, int]


class _ItemCache:
    """Playlist items shared between groups of one pass (items are immutable)."""

    def __init__(self) -> None:
        self._items: dict[_ItemKey, tuple[PlaylistItem, dict[str, Any]]] = {}

    def get(self, placed: Placed) -> tuple[PlaylistItem, dict[str, Any]]:
        key = (placed.item_id, placed.start, placed.end)
        found = self._items.get(key)
        if found is None:
            item = _to_item(placed)
            found = (item, item.model_dump(mode="json", exclude_none=True))
            self._items[key] = found
        return found


def _to_item(placed: Placed) -> PlaylistItem:
    entry = placed.piece.entry
    return PlaylistItem(
        id=placed.item_id,
        kind=entry.kind,
        start=from_ms(placed.start),
        duration_s=(placed.end - placed.start) / 1000,
        priority=entry.priority,
        title=entry.title,
        volume=entry.volume,
        media=entry.media,
        stream_url=entry.stream_url,
        fallback=entry.fallback,
        late_policy=entry.late_policy,
        languages=entry.languages,
        visual=entry.visual,
    )


def content_hash(items: Iterable[PlaylistItem]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``items``, as sent on the wire."""
    dumped = [item.model_dump(mode="json", exclude_none=True) for item in items]
    return hashlib.sha256(canonical_json(dumped)).hexdigest()


def compile_group(
    calendar: ExpandedCalendar, entries: Iterable[ScheduleEntry], cache: _ItemCache | None = None
) -> CompileResult:
    """Compile for any node that receives exactly ``entries`` (already filtered by target)."""
    cache = cache or _ItemCache()
    pieces, bumps = place(calendar, entries)
    placed, resolved_bumps = resolve(
        pieces, to_ms(calendar.window_start), to_ms(calendar.window_end)
    )
    placed.sort(key=lambda p: (p.start, p.item_id))
    pairs = [cache.get(p) for p in placed]
    digest = hashlib.sha256(canonical_json([dump for _, dump in pairs])).hexdigest()
    all_bumps = sorted(bumps + resolved_bumps, key=lambda b: b.sort_key)
    return CompileResult([item for item, _ in pairs], digest, all_bumps)


def compile_node_playlist(
    node_id: str,
    node_zones: frozenset[str],
    entries: Iterable[ScheduleEntry],
    window_start: datetime,
    window_end: datetime,
    *,
    slots: Sequence[ProgrammeSlot] = (),
) -> CompileResult:
    """The playlist of one node for ``[window_start, window_end)`` (UTC).

    ``node_zones`` holds every zone the node is in, ancestors included (the controller
    expands the zone tree). Raises :class:`schedules.errors.ScheduleError` on duplicate ids
    or a reference to an unknown slot.
    """
    entries = list(entries)
    calendar = ExpandedCalendar(entries, slots, window_start, window_end)
    mine = [e for e in calendar.entries.values() if e.targets.reach(node_id, node_zones)]
    return compile_group(calendar, mine)


def compile_fleet(
    nodes: Mapping[str, frozenset[str]],
    entries: Iterable[ScheduleEntry],
    window_start: datetime,
    window_end: datetime,
    *,
    slots: Sequence[ProgrammeSlot] = (),
) -> dict[str, CompileResult]:
    """Playlists for many nodes (``node_id -> node_zones``) in one pass; same results as
    calling :func:`compile_node_playlist` per node, much faster."""
    calendar = ExpandedCalendar(entries, slots, window_start, window_end)
    groups = group_nodes(nodes, calendar.entries.values())
    cache = _ItemCache()
    results: dict[str, CompileResult] = {}
    for shared, members in groups.items():
        result = compile_group(calendar, [calendar.entries[i] for i in sorted(shared)], cache)
        for node_id in members:
            results[node_id] = CompileResult(list(result.items), result.content_hash, result.bumped)
    return results


def group_nodes(
    nodes: Mapping[str, frozenset[str]], entries: Iterable[ScheduleEntry]
) -> dict[frozenset[str], list[str]]:
    """Nodes grouped by the exact set of entry ids that reach them."""
    entries = list(entries)
    by_node: dict[str, list[str]] = {}
    for entry in entries:
        for node_id in entry.targets.nodes:
            by_node.setdefault(node_id, []).append(entry.id)
    by_zones: dict[frozenset[str], frozenset[str]] = {}
    groups: dict[frozenset[str], list[str]] = {}
    for node_id in sorted(nodes):
        zones = nodes[node_id]
        zone_ids = by_zones.get(zones)
        if zone_ids is None:
            zone_ids = frozenset(e.id for e in entries if not zones.isdisjoint(e.targets.zones))
            by_zones[zones] = zone_ids
        shared = zone_ids | frozenset(by_node.get(node_id, ()))
        groups.setdefault(shared, []).append(node_id)
    return groups
