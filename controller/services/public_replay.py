"""What citizens may see of one commune: its aired, public bulletins and emergencies.

One predicate (:func:`is_publicly_visible`) decides for announcements; the replay page, the
podcast feed and the public media route all go through :func:`public_items` /
:func:`public_recording`, so none of them can show something another one would hide. Nothing
here carries node ids, targets, user names or command ids: citizens get text, time and audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from controller.auth.principal import Principal, Role
from controller.auth.scope import Scope, scope_for
from controller.db.models import Announcement, AnnouncementTarget, Emergency, Media, Zone
from controller.services.approval import AIRABLE, may_air
from protocol.models import Priority

RECENT = timedelta(days=30)
"""How far back the page and the feed go."""
LIMIT = 30

MIME = {"mp3": "audio/mpeg", "opus": "audio/ogg", "ogg": "audio/ogg", "wav": "audio/wav"}


@dataclass(frozen=True)
class PublicAudio:
    """One recording of an item (one per language once bulletins carry variants)."""

    sha256: str
    ext: str
    size: int
    duration_s: float

    @property
    def mime(self) -> str:
        return MIME.get(self.ext, "application/octet-stream")


@dataclass(frozen=True)
class PublicItem:
    key: str
    """``a<id>`` for an announcement, ``e<id>`` for an emergency: the public address."""
    title: str
    text: str
    aired_at: datetime
    emergency: bool
    audio: PublicAudio | None
    """The Vietnamese recording (the feed's enclosure)."""
    variants: tuple[tuple[str, PublicAudio], ...] = ()
    """Recordings in other languages: ``(language code, audio)``, addressed ``{key}-{code}``."""

    def recording(self, name: str) -> PublicAudio | None:
        """``a7`` → the Vietnamese audio, ``a7-tay`` → the Tày one (None when absent)."""
        if name == self.key:
            return self.audio
        return next((a for lang, a in self.variants if name == f"{self.key}-{lang}"), None)


def is_publicly_visible(ann: Announcement, now: datetime) -> bool:
    """May citizens see and hear this announcement?

    Not marked internal, not cancelled, approved where its commune needs approval, and
    already on the air (its first play has begun), so the replay never announces what has
    not been broadcast yet.
    """
    return (
        not ann.internal and ann.cancelled_at is None and may_air(ann.approval) and ann.start <= now
    )


def commune(session: Session, commune_id: str) -> Zone | None:
    return session.get(Zone, commune_id)


def _scope(session: Session, commune_id: str) -> Scope:
    """What reaches the commune, exactly as a viewer of that commune would see it."""
    return scope_for(session, Principal("public", Role.VIEWER, frozenset({commune_id})))


def _audio(media: Media | None) -> PublicAudio | None:
    if media is None:
        return None
    return PublicAudio(media.sha256, media.ext, media.size, media.duration_s)


def _from_announcement(ann: Announcement) -> PublicItem:
    return PublicItem(
        key=f"a{ann.id}",
        title=ann.title,
        text=ann.text or "",
        aired_at=ann.start,
        emergency=ann.priority >= int(Priority.EMERGENCY),
        audio=_audio(ann.media),
        variants=tuple((v.language, a) for v in ann.variants if (a := _audio(v.media)) is not None),
    )


def _from_emergency(em: Emergency, media: Media | None) -> PublicItem:
    return PublicItem(
        key=f"e{em.id}",
        title=em.title,
        text=em.text or "",
        aired_at=em.issued_at,
        emergency=True,
        audio=_audio(media),
    )


def _announcements(session: Session, scope: Scope, now: datetime) -> list[Announcement]:
    reaches = Announcement.targets.any(
        or_(
            AnnouncementTarget.zone_id.in_(scope.seen_zone_ids | scope.zone_ids),
            AnnouncementTarget.node_id.in_(scope.node_ids),
        )
    )
    query = (
        select(Announcement)
        .where(
            reaches,
            Announcement.internal.is_(False),
            Announcement.cancelled_at.is_(None),
            Announcement.approval.in_(AIRABLE),
            Announcement.start <= now,
            Announcement.start >= now - RECENT,
        )
        .order_by(Announcement.start.desc())
        .limit(LIMIT)
    )
    return [a for a in session.scalars(query) if is_publicly_visible(a, now)]


def _emergencies(session: Session, scope: Scope, now: datetime) -> list[PublicItem]:
    query = (
        select(Emergency, Media)
        .join(Media, Media.sha256 == Emergency.media_sha256)
        .where(
            Emergency.cancelled_at.is_(None),
            Emergency.issued_at <= now,
            Emergency.issued_at >= now - RECENT,
        )
        .order_by(Emergency.issued_at.desc())
        .limit(LIMIT)
    )
    return [
        _from_emergency(em, media)
        for em, media in session.execute(query)
        if scope.sees(em.zone_ids, ())
    ]


def public_items(session: Session, commune_id: str, now: datetime) -> list[PublicItem]:
    """Emergencies first, then bulletins, each group newest first."""
    scope = _scope(session, commune_id)
    if not scope.zone_ids:
        return []
    items = _emergencies(session, scope, now)
    items += [_from_announcement(a) for a in _announcements(session, scope, now)]
    return sorted(items, key=lambda i: (not i.emergency, -i.aired_at.timestamp()))


def public_recording(
    session: Session, commune_id: str, name: str, now: datetime
) -> PublicAudio | None:
    """One recording by its public name (``a7``, ``a7-tay``, ``e…``), only if the commune's
    page lists its item."""
    key = name.split("-", 1)[0]
    for item in public_items(session, commune_id, now):
        if item.key == key:
            return item.recording(name)
    return None
