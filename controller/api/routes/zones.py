"""Zones: the tree of province → commune → village → groups (levels are data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from sqlalchemy import select

from controller.api import audit_trail
from controller.api.deps import Admin, ControllerDep, SessionDep, Viewer
from controller.api.schemas import StrictBody, ZoneIn, ZoneOut
from controller.api.scoping import ScopeDep
from controller.db.models import Node, Zone

router = APIRouter(prefix="/api/v1/zones", tags=["zones"])


def _out(zone: Zone) -> ZoneOut:
    return ZoneOut(
        id=zone.id,
        name=zone.name,
        kind=zone.kind,
        parent_id=zone.parent_id,
        needs_approval=zone.needs_approval,
    )


@router.get("")
def list_zones(session: SessionDep, _: Viewer, scope: ScopeDep) -> list[ZoneOut]:
    """The caller's zones and those above them (the path up to the province)."""
    query = select(Zone).order_by(Zone.id)
    if not scope.everything:
        query = query.where(Zone.id.in_(scope.seen_zone_ids | scope.zone_ids))
    return [_out(z) for z in session.scalars(query)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_zone(
    body: ZoneIn, request: Request, session: SessionDep, ctl: ControllerDep, who: Admin
) -> ZoneOut:
    if session.get(Zone, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"zone {body.id!r} already exists")
    if session.get(Node, body.id) is not None:
        # Targets name zones and nodes alike: a shared id would need a kind prefix forever.
        raise HTTPException(status.HTTP_409_CONFLICT, f"a node is already called {body.id!r}")
    if body.parent_id is not None and session.get(Zone, body.parent_id) is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown parent zone {body.parent_id!r}"
        )
    zone = Zone(
        id=body.id,
        name=body.name,
        kind=body.kind,
        parent_id=body.parent_id,
        created_at=ctl.clock.now(),
    )
    session.add(zone)
    detail = f"parent={body.parent_id} kind={body.kind} {body.name[:150]}"
    audit_trail.add(session, ctl, who, request, "zone.create", f"zone:{body.id}", detail)
    session.commit()
    return _out(zone)


class ZoneSettingsIn(StrictBody):
    needs_approval: bool


@router.patch("/{zone_id}")
def update_zone_settings(
    zone_id: Annotated[str, Path(max_length=64)],
    body: ZoneSettingsIn,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    who: Admin,
) -> ZoneOut:
    """A commune's settings: ``needs_approval`` holds operators' items for an approver."""
    zone = session.get(Zone, zone_id)
    if zone is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no zone {zone_id!r}")
    zone.needs_approval = body.needs_approval
    detail = f"needs_approval={body.needs_approval}"
    audit_trail.add(session, ctl, who, request, "zone.settings", f"zone:{zone_id}", detail)
    session.commit()
    return _out(zone)
