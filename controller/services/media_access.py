"""Who may fetch a media file by its hash (``/media/{sha256}.{ext}``).

Nodes authenticate with their own broker credentials (HTTP Basic, the ``node-…`` account
and the password enrolment gave them; only its ``$7$`` hash is stored) and may fetch any
media: they learn hashes only from signed playlists and commands. Panel and API callers see
a file when one of its uses reaches their commune scope, with the same ``sees`` rule as the
lists (announcements with their language variants and mixes, emergencies, bulletins); a
file nothing uses yet (a fresh upload or preview) is theirs to hear. The public hears only
what the replay page lists, at ``/public/{commune}/media/…``.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.broker.passwords import verify_mosquitto_hash
from controller.db.models import (
    Announcement,
    AnnouncementMix,
    AnnouncementTarget,
    AnnouncementVariant,
    Bulletin,
    Emergency,
    Node,
)

Reach = tuple[list[str], list[str]]
"""(zone ids, node ids) a use of a file is broadcast to."""


def node_authenticated(session: Session, username: str, password: str) -> bool:
    """True for an enrolled, not revoked node's own credentials."""
    node = session.scalar(select(Node).where(Node.mqtt_username == username))
    if node is None or node.revoked_at is not None or not node.mqtt_password_hash:
        return False
    return verify_mosquitto_hash(password, node.mqtt_password_hash)


def _announcement_reach(session: Session, ids: set[int]) -> Iterator[Reach]:
    targets: dict[int, Reach] = {i: ([], []) for i in ids}
    rows = session.scalars(
        select(AnnouncementTarget).where(AnnouncementTarget.announcement_id.in_(ids))
    )
    for t in rows:
        zones, nodes = targets[t.announcement_id]
        if t.zone_id:
            zones.append(t.zone_id)
        if t.node_id:
            nodes.append(t.node_id)
    yield from targets.values()


def uses(session: Session, sha256: str) -> list[Reach]:
    """Where each announcement, emergency and bulletin using this file is broadcast."""
    ann_ids = set(
        session.scalars(select(Announcement.id).where(Announcement.media_sha256 == sha256))
    )
    for table in (AnnouncementVariant, AnnouncementMix):
        ann_ids |= set(
            session.scalars(select(table.announcement_id).where(table.media_sha256 == sha256))
        )
    found = list(_announcement_reach(session, ann_ids)) if ann_ids else []
    for emg in session.scalars(select(Emergency).where(Emergency.media_sha256 == sha256)):
        found.append((list(emg.zone_ids or []), []))
    for bulletin in session.scalars(select(Bulletin).where(Bulletin.media_sha256 == sha256)):
        # its target communes (the sender above them sees those; the source zone would
        # also let every other commune below it in)
        found.append(([d.zone_id for d in bulletin.deliveries], []))
    return found


def scope_may_fetch(session: Session, scope: Scope, sha256: str) -> bool:
    """Some use of the file reaches the scope, or nothing uses it yet."""
    if scope.everything:
        return True
    reach = uses(session, sha256)
    return not reach or any(scope.sees(zones, nodes) for zones, nodes in reach)
