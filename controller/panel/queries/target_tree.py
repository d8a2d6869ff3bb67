"""The compose form's target tree: communes -> villages -> nodes, within the user's scope."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import Announcement, Node, Zone


@dataclass
class TreeZone:
    zone: Zone
    children: list[TreeZone] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)


def build(session: Session, scope: Scope) -> list[TreeZone]:
    zones = [
        z for z in session.scalars(select(Zone).order_by(Zone.name)) if scope.allows_zone(z.id)
    ]
    by_id = {z.id: TreeZone(z) for z in zones}
    roots: list[TreeZone] = []
    for z in zones:
        parent = by_id.get(z.parent_id) if z.parent_id else None
        (parent.children if parent else roots).append(by_id[z.id])
    for node in session.scalars(select(Node).where(Node.revoked_at.is_(None)).order_by(Node.name)):
        if node.zone_id in by_id and scope.allows_node(node.id):
            by_id[node.zone_id].nodes.append(node)
    return roots


def target_names(session: Session, ann: Announcement) -> list[str]:
    """The announcement's targets as people name them (zone or speaker names, else ids)."""
    names = []
    for target in ann.targets:
        if target.zone_id:
            zone = session.get(Zone, target.zone_id)
            names.append(zone.name if zone else target.zone_id)
        elif target.node_id:
            node = session.get(Node, target.node_id)
            names.append(node.name if node else target.node_id)
    return names
