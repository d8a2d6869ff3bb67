"""Commune scope for every JSON API route: one set of checks, the same answers everywhere.

The rules (``controller.auth.scope`` decides, this module turns answers into HTTP):

* a target list in a request body (new or changed targets) must lie wholly inside the scope,
  else **403**; unknown or ambiguous ids are **422** naming them;
* a single object addressed in the path (node, announcement, schedule entry, emergency,
  command) that the caller may not see is **404**, exactly as if it did not exist;
* one the caller may see (it reaches their communes) but that also reaches other communes
  cannot be changed by them: **403**;
* lists are filtered to what the caller may see, never refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, status
from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep, current_principal
from controller.auth.principal import Principal
from controller.auth.scope import Scope, scope_for
from controller.db.models import Announcement, AnnouncementTarget
from controller.services.announcements import (
    TargetError,
    Targets,
    resolve_targets,
)


def get_scope(
    session: SessionDep, principal: Annotated[Principal, Depends(current_principal)]
) -> Scope:
    return scope_for(session, principal)


ScopeDep = Annotated[Scope, Depends(get_scope)]


def require_node(scope: Scope, node_id: str) -> None:
    """404, not 403, outside the scope: another commune's nodes are not even confirmed."""
    if not scope.allows_node(node_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no node {node_id!r}")


def require_targets(scope: Scope, zone_ids: Iterable[str], node_ids: Iterable[str]) -> None:
    if not scope.allows_targets(zone_ids, node_ids):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "a target is outside the communes you manage"
        )


def checked_targets(session: Session, scope: Scope, target_ids: list[str]) -> Targets:
    """Resolve body target ids by kind (422 unknown/ambiguous), then require them in scope.

    The returned ``Targets`` are what the caller must store: the scope was checked on
    exactly these, so no id can mean one thing to the check and another to the store.
    """
    try:
        targets = resolve_targets(session, target_ids)
    except TargetError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    require_targets(scope, targets.zone_ids, targets.node_ids)
    return targets


def require_visible(scope: Scope, zone_ids: list[str], node_ids: list[str], missing: str) -> None:
    """404 for an object that reaches none of the caller's communes.

    ``missing`` is the route's own "not found" text, so both cases read the same.
    """
    if not scope.sees(zone_ids, node_ids):
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing)


def require_editable(scope: Scope, zone_ids: list[str], node_ids: list[str], missing: str) -> None:
    """404 when invisible; 403 when it also reaches communes outside the caller's scope."""
    require_visible(scope, zone_ids, node_ids, missing)
    if not scope.allows_targets(zone_ids, node_ids):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "it also reaches communes outside the ones you manage"
        )


def spec_targets(spec: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Targets of a stored schedule entry (``ScheduleEntry`` JSON)."""
    targets = spec.get("targets") or {}
    return list(targets.get("zones") or []), list(targets.get("nodes") or [])


def visible_announcements(scope: Scope) -> ColumnElement[bool] | None:
    """SQL condition for announcements the caller may see (None: no filter needed)."""
    if scope.everything:
        return None
    return Announcement.targets.any(
        or_(
            AnnouncementTarget.zone_id.in_(scope.seen_zone_ids | scope.zone_ids),
            AnnouncementTarget.node_id.in_(scope.node_ids),
        )
    )
