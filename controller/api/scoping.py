"""Commune scope as a dependency: operators and viewers see and touch only their communes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, status

from controller.api.deps import Principal, SessionDep, current_principal
from controller.auth.scope import Scope, scope_for


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
