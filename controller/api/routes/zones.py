"""Zones: the tree of province → commune → village → groups (levels are data)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from controller.api.deps import Admin, ControllerDep, SessionDep, Viewer
from controller.api.schemas import ZoneIn, ZoneOut
from controller.db.models import Zone

router = APIRouter(prefix="/api/v1/zones", tags=["zones"])


def _out(zone: Zone) -> ZoneOut:
    return ZoneOut(id=zone.id, name=zone.name, kind=zone.kind, parent_id=zone.parent_id)


@router.get("")
def list_zones(session: SessionDep, _: Viewer) -> list[ZoneOut]:
    return [_out(z) for z in session.scalars(select(Zone).order_by(Zone.id))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_zone(body: ZoneIn, session: SessionDep, ctl: ControllerDep, _: Admin) -> ZoneOut:
    if session.get(Zone, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"zone {body.id!r} already exists")
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
    session.commit()
    return _out(zone)
