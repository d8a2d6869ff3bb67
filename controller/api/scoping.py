"""Commune scope as a dependency: operators and viewers see and touch only their communes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep, current_principal
from controller.auth.principal import Principal
from controller.auth.scope import Scope, scope_for
from controller.db.models import Node, Zone


def get_scope(
    session: SessionDep, principal: Annotated[Principal, Depends(current_principal)]
) -> Scope:
    return scope_for(session, principal)


ScopeDep = Annotated[Scope, Depends(get_scope)]


def require_node(scope: Scope, node_id: str) -> None:
    """404, not 403, outside the scope: another commune's nodes are not even confirmed."""
    if not scope.allows_node(node_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no node {node_id!r}")


def require_targets(scope: Scope, zone_ids: list[str], node_ids: list[str]) -> None:
    if not scope.allows_targets(zone_ids, node_ids):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "a target is outside the communes you manage"
        )


def require_target_ids(session: Session, scope: Scope, target_ids: list[str]) -> None:
    """Check raw target ids (zones or nodes) against the scope; unknown ids are left to the
    caller's own validation (which answers 422 naming them)."""
    if scope.everything:
        return
    zones = set(session.scalars(select(Zone.id).where(Zone.id.in_(target_ids))))
    nodes = [t for t in target_ids if t not in zones]
    known_nodes = set(session.scalars(select(Node.id).where(Node.id.in_(nodes))))
    require_targets(scope, sorted(zones), sorted(known_nodes))
