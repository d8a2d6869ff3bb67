"""Speaker nodes: registration and the fleet view (online state, last heartbeat)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from controller.api import audit_trail
from controller.api.deps import Admin, ControllerDep, SessionDep, Viewer
from controller.api.schemas import HornSafetyIn, NodeCreatedOut, NodeIn, NodeOut
from controller.api.scoping import ScopeDep, require_node
from controller.db.models import Node
from controller.services import horn, provisioning

router = APIRouter(prefix="/api/v1/nodes", tags=["nodes"])


def node_out(node: Node) -> NodeOut:
    return NodeOut(
        id=node.id,
        name=node.name,
        zone_id=node.zone_id,
        extra_zone_ids=sorted(m.zone_id for m in node.extra_zones),
        lat=node.lat,
        lon=node.lon,
        online=node.online,
        status_changed_at=node.status_changed_at,
        last_heartbeat_at=node.last_heartbeat_at,
        last_heartbeat=node.last_heartbeat,
        revoked=node.revoked_at is not None,
        volume_cap=node.volume_cap,
    )


@router.get("")
def list_nodes(
    session: SessionDep, _: Viewer, scope: ScopeDep, zone: str | None = None
) -> list[NodeOut]:
    query = select(Node).order_by(Node.id)
    if not scope.everything:
        query = query.where(Node.id.in_(scope.node_ids))
    if zone is not None:
        query = query.where(Node.zone_id == zone)
    return [node_out(n) for n in session.scalars(query)]


@router.get("/{node_id}")
def get_node(node_id: str, session: SessionDep, _: Viewer, scope: ScopeDep) -> NodeOut:
    require_node(scope, node_id)
    node = session.get(Node, node_id)
    if node is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no node {node_id!r}")
    out = node_out(node)
    out.effective_volume_cap = horn.node_cap(session, node_id)
    return out


@router.patch("/{node_id}")
async def patch_node(
    node_id: str, body: HornSafetyIn, request: Request, ctl: ControllerDep, who: Admin
) -> NodeOut:
    """Set the node's own volume cap (admin); its zones' caps still apply (the lowest wins).
    Quiet hours are set on zones, not nodes."""
    if "quiet_hours" in body.model_fields_set:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "quiet hours are set on zones, not on nodes"
        )

    def work() -> NodeOut:
        with ctl.sessions() as session:
            node = session.get(Node, node_id)
            if node is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no node {node_id!r}")
            if "volume_cap" in body.model_fields_set:
                node.volume_cap = body.volume_cap
            detail = f"volume_cap={node.volume_cap}"
            audit_trail.add(session, ctl, who, request, "node.safety", f"node:{node_id}", detail)
            session.commit()
            out = node_out(node)
            out.effective_volume_cap = horn.node_cap(session, node_id)
            return out

    out = await run_in_threadpool(work)
    await run_in_threadpool(ctl.publisher.refresh, [node_id])
    return out


@router.post("", status_code=status.HTTP_201_CREATED)
def create_node(
    body: NodeIn, request: Request, session: SessionDep, ctl: ControllerDep, who: Admin
) -> NodeCreatedOut:
    """Register a node; the answer carries its one-time enrolment token (shown only here)."""
    try:
        node, token = provisioning.create_node(
            session,
            node_id=body.id,
            name=body.name,
            zone_id=body.zone_id,
            extra_zone_ids=body.extra_zone_ids,
            lat=body.lat,
            lon=body.lon,
            now=ctl.clock.now(),
            identity=ctl.identity().pins,
        )
    except provisioning.ProvisioningError as exc:
        code = 409 if "already exists" in str(exc) else 422
        raise HTTPException(code, str(exc)) from None
    detail = f"zone={body.zone_id} extra={','.join(body.extra_zone_ids)} {body.name[:150]}"
    audit_trail.add(session, ctl, who, request, "node.create", f"node:{node.id}", detail)
    session.commit()
    return NodeCreatedOut(**node_out(node).model_dump(), enrol_token=token)


@router.post("/{node_id}/enrolment-token")
def new_token(
    node_id: str,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    who: Admin,
    ttl_h: Annotated[float, Query(gt=0, le=24 * 30)] = 72,
) -> dict[str, str]:
    """A fresh one-time token (valid ``ttl_h`` hours); any earlier token stops working."""
    try:
        token = provisioning.new_enrolment_token(
            session,
            node_id,
            now=ctl.clock.now(),
            identity=ctl.identity().pins,
            ttl=timedelta(hours=ttl_h),
        )
    except provisioning.ProvisioningError as exc:
        code = 422 if "lifetime" in str(exc) else 404
        raise HTTPException(code, str(exc)) from None
    audit_trail.add(
        session, ctl, who, request, "node.enrolment_token", f"node:{node_id}", f"ttl_h={ttl_h}"
    )
    session.commit()
    return {"node_id": node_id, "enrol_token": token}


@router.post("/{node_id}/revoke")
def revoke_node(
    node_id: str, request: Request, session: SessionDep, ctl: ControllerDep, who: Admin
) -> NodeOut:
    """Cut the node's broker access at once (its account leaves the password and ACL files)."""
    try:
        provisioning.revoke(session, node_id, ctl.clock.now())
    except provisioning.ProvisioningError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    audit_trail.add(session, ctl, who, request, "node.revoke", f"node:{node_id}")
    session.commit()
    ctl.sync_broker_access()
    node = session.get(Node, node_id)
    assert node is not None
    return node_out(node)
