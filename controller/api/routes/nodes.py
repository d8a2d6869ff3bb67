"""Speaker nodes: registration and the fleet view (online state, last heartbeat)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from controller.api.deps import Admin, ControllerDep, SessionDep, Viewer
from controller.api.schemas import NodeIn, NodeOut
from controller.db.models import Node, NodeZone, Zone

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
    )


@router.get("")
def list_nodes(session: SessionDep, _: Viewer, zone: str | None = None) -> list[NodeOut]:
    query = select(Node).order_by(Node.id)
    if zone is not None:
        query = query.where(Node.zone_id == zone)
    return [node_out(n) for n in session.scalars(query)]


@router.get("/{node_id}")
def get_node(node_id: str, session: SessionDep, _: Viewer) -> NodeOut:
    node = session.get(Node, node_id)
    if node is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no node {node_id!r}")
    return node_out(node)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_node(body: NodeIn, session: SessionDep, ctl: ControllerDep, _: Admin) -> NodeOut:
    if session.get(Node, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"node {body.id!r} already exists")
    for zone_id in (body.zone_id, *body.extra_zone_ids):
        if session.get(Zone, zone_id) is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown zone {zone_id!r}")
    node = Node(
        id=body.id,
        name=body.name,
        zone_id=body.zone_id,
        lat=body.lat,
        lon=body.lon,
        created_at=ctl.clock.now(),
        extra_zones=[NodeZone(zone_id=z) for z in dict.fromkeys(body.extra_zone_ids)],
    )
    session.add(node)
    session.commit()
    return node_out(node)
