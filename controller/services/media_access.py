"""Who may fetch a media file by its hash (``/media/{sha256}.{ext}``).

A file is fetched only by a caller one of its *uses* reaches; a file outside the caller's
reach answers 404 like a missing one, so a probe learns nothing. The uses of a file:

- announcements whose recording, language variant or joined mix it is (their targets), and
  whose e-board slides it is (images and PDF pages, ``media_uses`` kind ``slide``);
- programme entries (``schedule_entries.spec``) playing it, as a relay's fallback recording
  or as a slide (kind ``schedule``, the entry's targets);
- commands carrying it in their item, play-now and emergency (kind ``command``: the
  command's node or zone); emergencies (their zones); bulletins (their target communes);
- for an Opus rendition, every use of the MP3 it was made from (``OpusRenditions.source_of``).

Nodes authenticate with their own broker credentials (HTTP Basic, the ``node-…`` account
and the password enrolment gave them; only its ``$7$`` hash is stored) and fetch a file
when a use reaches them by the playlist builder's rule: the node itself, its home or extra
zone, or any zone above those. A node never fetches a file nothing uses. (The standard
notice a field install pre-caches is copied into the agent's cache, not fetched; an
emergency that plays it is a use like any other.)

Panel and API callers see a file when a use reaches their commune scope, with the same
``sees`` rule as the lists; a file nothing uses yet (a fresh upload, image or preview) is
heard only by whoever made it (``media_uses`` kind ``owner``) and by all-communes admins.
The public hears only what the replay page lists, at ``/public/{commune}/media/…``.

Cost per fetch: one indexed UNION over the uses of the file(s), then one query per kind of
use found (usually one), and for a node its zones (one recursive query).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, literal, or_, select, union_all
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.broker.passwords import verify_mosquitto_hash
from controller.db.models import (
    Announcement,
    AnnouncementMix,
    AnnouncementTarget,
    AnnouncementVariant,
    Bulletin,
    BulletinDelivery,
    Command,
    Emergency,
    MediaUse,
    Node,
    NodeZone,
    ScheduleEntryRow,
    Zone,
)
from controller.services import media_uses

Reach = tuple[list[str], list[str]]
"""(zone ids, node ids) a use of a file is broadcast to."""


@dataclass
class Uses:
    """Where each use of a file reaches, and who made the file (not a use)."""

    reaches: list[Reach] = field(default_factory=list)
    owners: set[str] = field(default_factory=set)


def node_authenticated(session: Session, username: str, password: str) -> Node | None:
    """The enrolled, not revoked node these credentials are, or None."""
    node = session.scalar(select(Node).where(Node.mqtt_username == username))
    if node is None or node.revoked_at is not None or not node.mqtt_password_hash:
        return None
    return node if verify_mosquitto_hash(password, node.mqtt_password_hash) else None


def _label(kind: str) -> Any:
    return cast(literal(kind), String(16)).label("kind")


def _found(session: Session, hashes: list[str]) -> list[tuple[str, str]]:
    """(kind, id) of every use of the files, in one indexed query."""
    query = union_all(
        select(_label("announcement"), cast(Announcement.id, String).label("ref")).where(
            Announcement.media_sha256.in_(hashes)
        ),
        *(
            select(_label("announcement"), cast(t.announcement_id, String)).where(
                t.media_sha256.in_(hashes)
            )
            for t in (AnnouncementVariant, AnnouncementMix)
        ),
        select(_label("emergency"), Emergency.id).where(Emergency.media_sha256.in_(hashes)),
        select(_label("bulletin"), cast(Bulletin.id, String)).where(
            Bulletin.media_sha256.in_(hashes)
        ),
        select(MediaUse.kind, MediaUse.ref).where(MediaUse.sha256.in_(hashes)),
    )
    return [(str(kind), str(ref)) for kind, ref in session.execute(query)]


def _announcement_reach(session: Session, ids: set[int]) -> list[Reach]:
    targets: dict[int, Reach] = {i: ([], []) for i in ids}
    rows = session.execute(
        select(
            AnnouncementTarget.announcement_id,
            AnnouncementTarget.zone_id,
            AnnouncementTarget.node_id,
        ).where(AnnouncementTarget.announcement_id.in_(ids))
    )
    for ann_id, zone_id, node_id in rows:
        zones, nodes = targets[ann_id]
        if zone_id:
            zones.append(zone_id)
        if node_id:
            nodes.append(node_id)
    return list(targets.values())


def _entry_reach(spec: Any) -> Reach:
    targets = spec.get("targets") if isinstance(spec, dict) else None
    if not isinstance(targets, dict):
        return ([], [])
    return (list(targets.get("zones") or []), list(targets.get("nodes") or []))


def uses(session: Session, hashes: Iterable[str]) -> Uses:
    """Every use of the files (a file and its renditions' source count as one) and reach."""
    by_kind: dict[str, set[str]] = defaultdict(set)
    for kind, ref in _found(session, sorted(set(hashes))):
        by_kind[kind].add(ref)
    found = Uses(owners=by_kind.pop(media_uses.OWNER, set()))
    announcements = by_kind["announcement"] | by_kind[media_uses.SLIDE]
    if announcements:
        found.reaches += _announcement_reach(session, {int(a) for a in announcements})
    if by_kind["emergency"]:
        zone_lists = select(Emergency.zone_ids).where(Emergency.id.in_(by_kind["emergency"]))
        found.reaches += [(list(z or []), []) for z in session.scalars(zone_lists)]
    if by_kind["bulletin"]:
        # its target communes (the sender above them sees those; the source zone would
        # also let every other commune below it in)
        communes: dict[int, list[str]] = {int(b): [] for b in by_kind["bulletin"]}
        deliveries = select(BulletinDelivery.bulletin_id, BulletinDelivery.zone_id).where(
            BulletinDelivery.bulletin_id.in_(communes)
        )
        for bulletin_id, zone_id in session.execute(deliveries):
            communes[bulletin_id].append(zone_id)
        found.reaches += [(zones, []) for zones in communes.values()]
    if by_kind[media_uses.SCHEDULE]:
        specs = select(ScheduleEntryRow.spec).where(
            ScheduleEntryRow.id.in_(by_kind[media_uses.SCHEDULE])
        )
        found.reaches += [_entry_reach(spec) for spec in session.scalars(specs)]
    if by_kind[media_uses.COMMAND]:
        query = select(Command.zone_id, Command.node_id).where(
            Command.id.in_(by_kind[media_uses.COMMAND])
        )
        found.reaches += [
            ([zone] if zone else [], [node] if node else [])
            for zone, node in session.execute(query)
        ]
    return found


def node_zones(session: Session, node: Node) -> set[str]:
    """The node's home and extra zones with every zone above them (the playlist builder's
    reach, as :func:`controller.services.zones.node_zone_ids`), in one recursive query."""
    extra = select(NodeZone.zone_id).where(NodeZone.node_id == node.id)
    up = (
        select(Zone.id, Zone.parent_id)
        .where(or_(Zone.id == node.zone_id, Zone.id.in_(extra)))
        .cte("up", recursive=True)
    )
    up = up.union(select(Zone.id, Zone.parent_id).join(up, Zone.id == up.c.parent_id))
    return set(session.scalars(select(up.c.id)))


def node_may_fetch(session: Session, node: Node, hashes: Iterable[str]) -> bool:
    """Some use of the file reaches the node; never a file nothing uses."""
    reaches = uses(session, hashes).reaches
    if not reaches:
        return False
    zones = node_zones(session, node)
    return any(node.id in nodes or zones.intersection(targets) for targets, nodes in reaches)


def scope_may_fetch(session: Session, scope: Scope, username: str, hashes: Iterable[str]) -> bool:
    """All-communes callers, the file's maker, or a use of it reaching the scope."""
    if scope.everything:
        return True
    found = uses(session, hashes)
    if username in found.owners:
        return True
    return any(scope.sees(zones, nodes) for zones, nodes in found.reaches)
