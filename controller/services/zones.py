"""The zone tree: which zones a node is in (with ancestors) and which nodes a zone reaches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import CompoundSelect, select, union
from sqlalchemy.orm import Session

from controller.db.models import Node, NodeZone, Zone

COMMUNE_KINDS = frozenset({"xã", "commune", "phường", "thị trấn"})
"""Zone kinds that are communes (the level that runs its own speakers and reports upward)."""


class ZoneTree:
    """An in-memory snapshot of the zone tree (small: a province has a few thousand zones)."""

    def __init__(self, parents: dict[str, str | None]) -> None:
        self.parents = parents
        self.children: dict[str, list[str]] = defaultdict(list)
        for zone_id, parent in parents.items():
            if parent is not None:
                self.children[parent].append(zone_id)

    @classmethod
    def load(cls, session: Session) -> ZoneTree:
        return cls({z.id: z.parent_id for z in session.scalars(select(Zone))})

    def ancestors_and_self(self, zone_id: str) -> list[str]:
        chain: list[str] = []
        current: str | None = zone_id
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parents.get(current)
        return chain

    def descendants_and_self(self, zone_id: str) -> set[str]:
        found: set[str] = set()
        stack = [zone_id]
        while stack:
            zone = stack.pop()
            if zone in found:
                continue
            found.add(zone)
            stack.extend(self.children.get(zone, ()))
        return found

    def would_cycle(self, zone_id: str, new_parent: str) -> bool:
        return zone_id in self.ancestors_and_self(new_parent)


def node_zone_ids(session: Session, tree: ZoneTree, node: Node) -> frozenset[str]:
    """Every zone the node belongs to: home zone, extra zones, and all their ancestors."""
    direct = [node.zone_id, *(m.zone_id for m in node.extra_zones)]
    return frozenset(z for d in direct for z in tree.ancestors_and_self(d))


def reached_query(tree: ZoneTree, zone_ids: Iterable[str]) -> CompoundSelect[tuple[str]]:
    """SQL for the node ids a set of zones reaches (each zone with everything below it).

    A SELECT rather than a list so a command's deliveries can be written by the database
    itself (``INSERT ... SELECT``) without a round trip of thousands of ids through Python.
    """
    zones: set[str] = set()
    for zone_id in zone_ids:
        zones |= tree.descendants_and_self(zone_id)
    return union(
        select(Node.id.label("node_id")).where(Node.zone_id.in_(zones), Node.revoked_at.is_(None)),
        select(NodeZone.node_id.label("node_id")).where(NodeZone.zone_id.in_(zones)),
    )


def nodes_reached(
    session: Session, tree: ZoneTree, zone_ids: Iterable[str], node_ids: Iterable[str]
) -> set[str]:
    """Node ids targeted by a set of zones (with everything below them) and single nodes."""
    reached = set(node_ids)
    zone_ids = list(zone_ids)
    if zone_ids:
        reached |= set(session.scalars(reached_query(tree, zone_ids)))
    return reached
