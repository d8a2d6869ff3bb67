"""Commune scope: which zones and nodes a principal may see and act on.

A user scoped to communes reaches those zones, everything below them, and every node whose
home or extra zone is in that set. ``all_communes`` principals reach everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.auth.principal import Principal
from controller.db.models import Node, NodeZone
from controller.services.zones import ZoneTree


@dataclass(frozen=True)
class Scope:
    everything: bool
    zone_ids: frozenset[str]
    node_ids: frozenset[str]

    def allows_zone(self, zone_id: str) -> bool:
        return self.everything or zone_id in self.zone_ids

    def allows_node(self, node_id: str) -> bool:
        return self.everything or node_id in self.node_ids

    def allows_targets(self, zone_ids: list[str], node_ids: list[str]) -> bool:
        return all(self.allows_zone(z) for z in zone_ids) and all(
            self.allows_node(n) for n in node_ids
        )


def scope_for(session: Session, principal: Principal, tree: ZoneTree | None = None) -> Scope:
    if principal.all_communes:
        return Scope(True, frozenset(), frozenset())
    tree = tree or ZoneTree.load(session)
    zones: set[str] = set()
    for commune in principal.communes:
        if commune in tree.parents:
            zones |= tree.descendants_and_self(commune)
    if not zones:
        return Scope(False, frozenset(), frozenset())
    nodes = set(session.scalars(select(Node.id).where(Node.zone_id.in_(zones))))
    nodes |= set(session.scalars(select(NodeZone.node_id).where(NodeZone.zone_id.in_(zones))))
    return Scope(False, frozenset(zones), frozenset(nodes))
