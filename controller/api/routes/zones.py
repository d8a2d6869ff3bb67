"""Zones: the tree of province → commune → village → groups (levels are data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy import select

from audio.errors import AudioToolError
from controller.api import audit_trail
from controller.api.deps import Admin, ControllerDep, Operator, SessionDep, Viewer
from controller.api.schemas import StrictBody, ZoneIn, ZoneOut, ZoneSettingsIn
from controller.api.scoping import ScopeDep
from controller.db.models import Node, Zone
from controller.services import multilingual
from controller.services.multilingual import LanguageError
from controller.services.zones import ZoneTree, nodes_reached

router = APIRouter(prefix="/api/v1/zones", tags=["zones"])


def _out(zone: Zone) -> ZoneOut:
    return ZoneOut(
        id=zone.id,
        name=zone.name,
        kind=zone.kind,
        parent_id=zone.parent_id,
        needs_approval=zone.needs_approval,
        volume_cap=zone.volume_cap,
        quiet_hours=zone.quiet_hours,
        languages=zone.languages,
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


@router.get("/{zone_id}")
def get_zone(
    zone_id: Annotated[str, Path(max_length=64)], session: SessionDep, _: Viewer, scope: ScopeDep
) -> ZoneOut:
    zone = session.get(Zone, zone_id)
    if zone is None or not scope.sees_zone(zone_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no zone {zone_id!r}")
    return _out(zone)


@router.patch("/{zone_id}")
async def patch_zone(
    zone_id: Annotated[str, Path(max_length=64)],
    body: ZoneSettingsIn,
    request: Request,
    ctl: ControllerDep,
    who: Admin,
) -> ZoneOut:
    """A zone's settings (admin: they bind every node below it). ``needs_approval`` holds a
    commune's operator items for an approver; the volume cap and quiet hours reach the
    nodes in new playlists, and non-emergency items already scheduled into new quiet hours
    are dropped from them. Only the fields given change; null clears a cap or quiet hours."""

    def work() -> tuple[ZoneOut, list[str]]:
        with ctl.sessions() as session:
            zone = session.get(Zone, zone_id)
            if zone is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no zone {zone_id!r}")
            changed = body.model_fields_set
            if "needs_approval" in changed:
                if body.needs_approval is None:
                    raise HTTPException(
                        status.HTTP_422_UNPROCESSABLE_CONTENT,
                        "needs_approval must be true or false",
                    )
                zone.needs_approval = body.needs_approval
            if "volume_cap" in changed:
                zone.volume_cap = body.volume_cap
            if "quiet_hours" in changed:
                zone.quiet_hours = body.quiet_hours
            detail = (
                f"needs_approval={zone.needs_approval} volume_cap={zone.volume_cap} "
                f"quiet_hours={zone.quiet_hours or ''}"
            )
            audit_trail.add(session, ctl, who, request, "zone.settings", f"zone:{zone_id}", detail)
            session.commit()
            out = _out(zone)
            if not changed & {"volume_cap", "quiet_hours"}:
                return out, []
            nodes = nodes_reached(session, ZoneTree.load(session), [zone_id], [])
            return out, sorted(nodes)

    out, nodes = await run_in_threadpool(work)
    if nodes:
        await run_in_threadpool(ctl.publisher.refresh, nodes)
    return out


class ZoneLanguages(StrictBody):
    languages: Annotated[list[str], Field(max_length=8)] | None
    """In airing order, e.g. ``["vi", "tay"]``; null: inherit from the zone above."""


@router.put("/{zone_id}/languages")
async def set_languages(
    zone_id: str,
    body: ZoneLanguages,
    request: Request,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
) -> ZoneOut:
    """Which languages this zone airs, in order; joins the recordings it now needs and
    republishes the affected nodes (operators of the commune, 404 outside it)."""

    def work() -> ZoneOut:
        with ctl.sessions() as session:
            zone = session.get(Zone, zone_id)
            if zone is None or not scope.allows_zone(zone_id):
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no zone {zone_id!r}")
            try:
                multilingual.set_zone_languages(
                    session, ctl.renderer, zone, body.languages, ctl.clock.now()
                )
            except LanguageError as exc:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
            except AudioToolError as exc:
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE, f"joining the languages failed: {exc}"
                ) from None
            detail = ",".join(zone.languages or []) or "inherit"
            audit_trail.add(session, ctl, who, request, "zone.languages", f"zone:{zone_id}", detail)
            session.commit()
            out = _out(zone)
        ctl.publisher.refresh()
        return out

    return await run_in_threadpool(work)
