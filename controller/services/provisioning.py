"""Node provisioning: per-node broker credentials, one-time enrolment tokens, revocation.

The enrolment token (``protocol/enrol_token.py``: node id, secret, pins of the controller's
identity) is shown once; only the SHA-256 of its secret is stored, with an expiry (72 h by
default). Exchanging it issues a fresh broker password (stored only as a Mosquitto hash) and
consumes the token in one conditional UPDATE, so of two concurrent uses exactly one wins, a
leaked token is useless after the real node has enrolled, and re-enrolment needs a new token.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller.broker.access_files import NodeAccess
from controller.broker.passwords import mosquitto_hash, new_secret
from controller.db.models import Node, NodeZone, PublishedPlaylist, Zone
from controller.services.zones import ZoneTree, node_zone_ids
from protocol.enrol_token import BadToken, EnrolToken, secret_hash
from protocol.enrol_token import new_secret as new_token_secret

DEFAULT_TOKEN_TTL = timedelta(hours=72)
MAX_TOKEN_TTL = timedelta(days=30)


class ProvisioningError(ValueError):
    """Unknown zone, duplicate node, bad or used token: the message says which."""


@dataclass(frozen=True)
class Credentials:
    node_id: str
    mqtt_username: str
    mqtt_password: str
    zones: list[str]
    min_playlist_version: int = 0


@dataclass(frozen=True)
class Identity:
    """What enrolment tokens pin: the signing key, and the agents' CA when there is one."""

    key_pin: str
    ca_pin: str | None = None


def _issue(node: Node, identity: Identity, now: datetime, ttl: timedelta) -> str:
    if not timedelta(minutes=1) <= ttl <= MAX_TOKEN_TTL:
        raise ProvisioningError("token lifetime must be between 1 minute and 30 days")
    secret = new_token_secret()
    node.enrol_token_hash = secret_hash(secret)
    node.enrol_token_expires_at = now + ttl
    return str(EnrolToken(node.id, secret, identity.key_pin, identity.ca_pin))


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
    identity: Identity,
    ttl: timedelta = DEFAULT_TOKEN_TTL,
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
    node = Node(
        id=node_id,
        name=name,
        zone_id=zone_id,
        lat=lat,
        lon=lon,
        created_at=now,
        mqtt_username=username_for(node_id),
        extra_zones=[NodeZone(zone_id=z) for z in dict.fromkeys(extra_zone_ids or [])],
    )
    token = _issue(node, identity, now, ttl)
    session.add(node)
    return node, token


def new_enrolment_token(
    session: Session,
    node_id: str,
    *,
    now: datetime,
    identity: Identity,
    ttl: timedelta = DEFAULT_TOKEN_TTL,
) -> str:
    """A fresh token for ``node_id`` (re-install); any earlier token stops working."""
    node = session.get(Node, node_id)
    if node is None or node.revoked_at is not None:
        raise ProvisioningError(f"unknown or revoked node {node_id!r}")
    return _issue(node, identity, now, ttl)


def enrol(session: Session, token: str, now: datetime) -> Credentials:
    """Exchange a token for fresh broker credentials (caller commits, then syncs the broker).

    The token is consumed by one conditional UPDATE (right secret, not expired, not revoked,
    not used): the database decides which of two concurrent uses wins.
    """
    try:
        parsed = EnrolToken.parse(token)
    except BadToken as exc:
        raise ProvisioningError(f"malformed enrolment token: {exc}") from None
    password = new_secret()
    consumed = session.execute(
        update(Node)
        .where(
            Node.id == parsed.node_id,
            Node.enrol_token_hash == secret_hash(parsed.secret),
            Node.enrol_token_expires_at > now,
            Node.revoked_at.is_(None),
        )
        .values(
            enrol_token_hash=None,
            enrol_token_expires_at=None,
            mqtt_username=username_for(parsed.node_id),
            mqtt_password_hash=mosquitto_hash(password),
        )
        .execution_options(synchronize_session=False)
    )
    if consumed.rowcount != 1:  # type: ignore[attr-defined]
        raise ProvisioningError(_refusal(session, parsed))
    node = session.get(Node, parsed.node_id, populate_existing=True)
    if node is None:  # cannot happen: the UPDATE just matched it in this transaction
        raise ProvisioningError(f"node {parsed.node_id!r} vanished during enrolment")
    zones = sorted(node_zone_ids(session, ZoneTree.load(session), node))
    published = session.get(PublishedPlaylist, node.id)
    floor = published.version if published is not None else 0
    return Credentials(node.id, username_for(node.id), password, zones, floor)


def _refusal(session: Session, token: EnrolToken) -> str:
    """Why a token did not match (said only to a caller who knows the secret)."""
    node = session.get(Node, token.node_id, populate_existing=True)
    if (
        node is None
        or node.enrol_token_hash is None
        or not hmac.compare_digest(node.enrol_token_hash, secret_hash(token.secret))
    ):
        return "invalid or already used enrolment token"
    if node.revoked_at is not None:
        return "this node has been revoked"
    return "enrolment token expired: issue a new one with `loa nodes token`"


def revoke(session: Session, node_id: str, now: datetime) -> None:
    node = session.get(Node, node_id)
    if node is None:
        raise ProvisioningError(f"unknown node {node_id!r}")
    node.revoked_at = now
    node.mqtt_password_hash = None
    node.enrol_token_hash = None
    node.enrol_token_expires_at = None
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


def access_for(session: Session, username: str) -> NodeAccess | None:
    """One enrolled, non-revoked node's broker account (for the EMQX hooks), else None."""
    node = session.scalar(
        select(Node).where(
            Node.mqtt_username == username,
            Node.revoked_at.is_(None),
            Node.mqtt_password_hash.is_not(None),
        )
    )
    if node is None or node.mqtt_password_hash is None:
        return None
    zones = node_zone_ids(session, ZoneTree.load(session), node)
    return NodeAccess(node.id, username, node.mqtt_password_hash, zones)
