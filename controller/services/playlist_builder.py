"""Turn a node's announcements into its playlist for a window.

Placement is sequential: items are ordered by (start, priority desc, id) and an item whose
start falls inside the previous one is moved to just after it, so a node never plays two
things at once. Recurring rules and slot packing come from ``schedules`` (issue 4).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from controller.db.models import Announcement
from protocol.codec import canonical_json
from protocol.models import ItemKind, MediaRef, PlaylistItem, Priority


@dataclass(frozen=True)
class BuiltPlaylist:
    items: list[PlaylistItem]
    content_hash: str


def announcement_item(ann: Announcement, start: datetime) -> PlaylistItem:
    media = None
    if ann.media is not None:
        media = MediaRef(
            sha256=ann.media.sha256,
            ext=ann.media.ext,
            size=ann.media.size,
            duration_s=ann.media.duration_s,
        )
    return PlaylistItem(
        id=f"ann-{ann.id}@{start:%Y%m%dT%H%M%SZ}",
        kind=ItemKind(ann.kind),
        start=start,
        duration_s=ann.duration_s,
        priority=Priority(ann.priority),
        title=ann.title[:500],
        volume=ann.volume,
        media=media,
        stream_url=ann.stream_url,
    )


def content_hash(items: Iterable[PlaylistItem]) -> str:
    payload = [i.model_dump(mode="json", exclude_none=True) for i in items]
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def build_playlist(
    announcements: Iterable[Announcement], window_start: datetime, window_end: datetime
) -> BuiltPlaylist:
    """Items that end after ``window_start`` and start before ``window_end``, without overlap."""
    candidates = sorted(
        (a for a in announcements if a.cancelled_at is None),
        key=lambda a: (a.start, -a.priority, a.id),
    )
    items: list[PlaylistItem] = []
    cursor: datetime | None = None
    for ann in candidates:
        start = ann.start if cursor is None or ann.start >= cursor else cursor
        end = start + timedelta(seconds=ann.duration_s)
        if end <= window_start or start >= window_end:
            continue
        items.append(announcement_item(ann, start))
        cursor = end
    return BuiltPlaylist(items, content_hash(items))
