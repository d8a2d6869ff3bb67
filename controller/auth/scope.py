"""Commune scope: which zones and nodes a principal may see and act on.

A user scoped to communes reaches those zones, everything below them, and every node whose
home or extra zone is in that set. ``all_communes`` principals reach everything.

Two questions, asked the same way by the panel and the JSON API:

* **may act on** (``allows_targets``): *every* target is inside the scope. Creating,
  retargeting, cancelling and deleting need this, so an operator never changes what plays on
  another commune's speakers.
* **may see** (``sees``): *some* target reaches the scope — a zone of the scope or one above
  it (a province-wide notice plays on the commune's speakers too), or a node of the scope.
  Lists are filtered with it and single objects it refuses answer 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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
    seen_zone_ids: frozenset[str] = field(default_factory=frozenset)
    """The scope's zones plus every zone above them: targets that reach the scope."""

    def allows_zone(self, zone_id: str) -> bool:
        return self.everything or zone_id in self.zone_ids

    def allows_node(self, node_id: str) -> bool:
        return self.everything or node_id in self.node_ids

    def allows_targets(self, zone_ids: Iterable[str], node_ids: Iterable[str]) -> bool:
        return all(self.allows_zone(z) for z in zone_ids) and all(
            self.allows_node(n) for n in node_ids
        )

    def sees_zone(self, zone_id: str) -> bool:
        return self.everything or zone_id in self.seen_zone_ids or zone_id in self.zone_ids

    def sees(self, zone_ids: Iterable[str], node_ids: Iterable[str]) -> bool:
        """Some target reaches the scope (always true for an all-communes principal)."""
        if self.everything:
            return True
        return any(self.sees_zone(z) for z in zone_ids) or any(n in self.node_ids for n in node_ids)


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
    seen = {a for z in zones for a in tree.ancestors_and_self(z)}
    return Scope(False, frozenset(zones), frozenset(nodes), frozenset(seen))
