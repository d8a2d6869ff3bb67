"""Recordings an operator may broadcast in an emergency, by title and date (never by hash).

A recording is uploaded audio (``Media.source == "upload"``). Its title is that of the
newest announcement or emergency that used it; one used only outside the user's communes is
not listed (its title would tell what another commune broadcast). A recording not used yet
is listed by its date and length only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import Announcement, Emergency, Media

LIMIT = 50


@dataclass(frozen=True)
class Recording:
    sha256: str
    ext: str
    duration_s: float
    created_at: datetime
    title: str  # "" when no announcement or emergency used it yet

    @property
    def url(self) -> str:
        return f"/media/{self.sha256}.{self.ext}"

    @property
    def length(self) -> str:
        seconds = round(self.duration_s)
        return f"{seconds // 60}:{seconds % 60:02d}"


def _titles(session: Session, scope: Scope, shas: list[str]) -> dict[str, str | None]:
    """Per used recording: the newest in-scope title ("" if untitled), None if only used
    outside the scope. Recordings not used at all are absent."""
    uses: dict[str, list[tuple[datetime, str, bool]]] = {}
    anns = session.scalars(select(Announcement).where(Announcement.media_sha256.in_(shas)))
    for ann in anns:
        zones = [t.zone_id for t in ann.targets if t.zone_id]
        nodes = [t.node_id for t in ann.targets if t.node_id]
        allowed = scope.allows_targets(zones, nodes)
        uses.setdefault(ann.media_sha256 or "", []).append((ann.created_at, ann.title, allowed))
    for emg in session.scalars(select(Emergency).where(Emergency.media_sha256.in_(shas))):
        allowed = scope.allows_targets(list(emg.zone_ids or []), [])
        uses.setdefault(emg.media_sha256, []).append((emg.issued_at, emg.title, allowed))
    titles: dict[str, str | None] = {}
    for sha, found in uses.items():
        mine = [title.strip() for _, title, ok in sorted(found, reverse=True) if ok]
        titles[sha] = next((t for t in mine if t), "") if mine else None
    return titles


def _listed(session: Session, scope: Scope, media: list[Media], limit: int) -> list[Recording]:
    titles = _titles(session, scope, [m.sha256 for m in media])
    shown: list[Recording] = []
    for m in media:
        title = titles.get(m.sha256, "")
        if title is None:
            continue
        shown.append(Recording(m.sha256, m.ext, m.duration_s, m.created_at, title))
        if len(shown) >= limit:
            break
    return shown


def recordings(session: Session, scope: Scope, limit: int = LIMIT) -> list[Recording]:
    """Newest first, at most ``limit``."""
    query = (
        select(Media)
        .where(Media.source == "upload")
        .order_by(Media.created_at.desc())
        .limit(limit * 4)
    )
    return _listed(session, scope, list(session.scalars(query)), limit)


def recording(session: Session, scope: Scope, sha256: str) -> Recording | None:
    """One recording by its hash (None if unknown or used only outside the scope)."""
    media = session.get(Media, sha256)
    if media is None:
        return None
    found = _listed(session, scope, [media], 1)
    return found[0] if found else None
