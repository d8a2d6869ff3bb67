"""Node provisioning: per-node broker credentials, one-time enrolment tokens, revocation.

The enrolment token is shown once (only its SHA-256 is stored). Exchanging it issues a fresh
broker password (stored only as a Mosquitto hash) and consumes the token, so a leaked token
is useless after the real node has enrolled, and re-enrolment needs a new token.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.broker.access_files import NodeAccess
from controller.broker.passwords import mosquitto_hash, new_secret
from controller.db.models import Node, NodeZone, Zone
from controller.services.zones import ZoneTree, node_zone_ids


class ProvisioningError(ValueError):
    """Unknown zone, duplicate node, bad or used token: the message says which."""


@dataclass(frozen=True)
class Credentials:
    node_id: str
    mqtt_username: str
    mqtt_password: str
    zones: list[str]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def username_for(node_id: str) -> str:
    return f"node-{node_id}"


def create_node(
    session: Session,
    *,
    node_id: str,
    name: str,
    zone_id: str,
    now: datetime,
    extra_zone_ids: list[str] | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> tuple[Node, str]:
    """Add a node and return it with its one-time enrolment token (caller commits)."""
    if session.get(Node, node_id) is not None:
        raise ProvisioningError(f"node {node_id!r} already exists")
    if session.get(Zone, node_id) is not None:
        # Targets name zones and nodes alike: a shared id would need a kind prefix forever.
        raise ProvisioningError(f"zone {node_id!r} already exists: pick another node id")
    for z in (zone_id, *(extra_zone_ids or [])):
        if session.get(Zone, z) is None:
            raise ProvisioningError(f"unknown zone {z!r}")
    token = new_secret()
    node = Node(
        id=node_id,
        name=name,
        zone_id=zone_id,
        lat=lat,
        lon=lon,
        created_at=now,
        mqtt_username=username_for(node_id),
        enrol_token_hash=_token_hash(token),
        extra_zones=[NodeZone(zone_id=z) for z in dict.fromkeys(extra_zone_ids or [])],
    )
    session.add(node)
    return node, token


def new_enrolment_token(session: Session, node_id: str) -> str:
    node = session.get(Node, node_id)
    if node is None or node.revoked_at is not None:
        raise ProvisioningError(f"unknown or revoked node {node_id!r}")
    token = new_secret()
    node.enrol_token_hash = _token_hash(token)
    return token


def enrol(session: Session, token: str) -> Credentials:
    """Exchange a token for fresh broker credentials (caller commits, then syncs the broker)."""
    wanted = _token_hash(token)
    node = session.scalar(select(Node).where(Node.enrol_token_hash == wanted))
    if (
        node is None
        or node.enrol_token_hash is None
        or not hmac.compare_digest(node.enrol_token_hash, wanted)
    ):
        raise ProvisioningError("invalid or already used enrolment token")
    if node.revoked_at is not None:
        raise ProvisioningError("this node has been revoked")
    password = new_secret()
    node.mqtt_username = node.mqtt_username or username_for(node.id)
    node.mqtt_password_hash = mosquitto_hash(password)
    node.enrol_token_hash = None
    zones = sorted(node_zone_ids(session, ZoneTree.load(session), node))
    return Credentials(node.id, node.mqtt_username, password, zones)


def revoke(session: Session, node_id: str, now: datetime) -> None:
    node = session.get(Node, node_id)
    if node is None:
        raise ProvisioningError(f"unknown node {node_id!r}")
    node.revoked_at = now
    node.mqtt_password_hash = None
    node.enrol_token_hash = None
    node.online = False


def broker_access(session: Session) -> list[NodeAccess]:
    """Every enrolled, non-revoked node's broker account with all its zones (and ancestors)."""
    tree = ZoneTree.load(session)
    nodes = session.scalars(
        select(Node).where(Node.revoked_at.is_(None), Node.mqtt_password_hash.is_not(None))
    )
    return [
        NodeAccess(
            n.id,
            n.mqtt_username or username_for(n.id),
            n.mqtt_password_hash or "",
            node_zone_ids(session, tree, n),
        )
        for n in nodes
    ]
