"""What the loudspeakers are playing right now, from what they reported — one source.

Each node's latest item event decides: ``started`` means playing (until the item's own
length, plus a margin, has passed — a lost ``finished`` must not keep it "playing"
forever); ``finished``/``failed``/``skipped``/``missed`` mean idle. The dashboard's count
and list are both this list, so they cannot disagree; an emergency shows while a node
plays it and stops showing when its last play is reported finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Announcement, Emergency, Media, Node, PlaybackEvent
from controller.panel.queries.item_names import EMERGENCY_PREFIX, entry_and_occurrence
from controller.services.schedule_store import ANNOUNCEMENT_PREFIX

ITEM_KINDS = ("started", "finished", "failed", "skipped", "missed")
LOOK_BACK = timedelta(hours=12)
MARGIN = timedelta(seconds=30)
UNKNOWN_LENGTH = timedelta(hours=1)
"""Relays and play-now items: how long a ``started`` counts without a known length."""


@dataclass(frozen=True)
class Playing:
    node_id: str
    node_name: str
    item_id: str
    since: datetime

    @property
    def emergency(self) -> bool:
        return self.item_id.startswith(EMERGENCY_PREFIX)


def playing_now(session: Session, nodes: list[Node], now: datetime) -> list[Playing]:
    """Online nodes whose latest item event is a ``started`` still within its length."""
    online = {n.id: n for n in nodes if n.online}
    if not online:
        return []
    events = session.execute(
        select(PlaybackEvent.node_id, PlaybackEvent.kind, PlaybackEvent.item_id, PlaybackEvent.at)
        .where(
            PlaybackEvent.node_id.in_(sorted(online)),
            PlaybackEvent.kind.in_(ITEM_KINDS),
            PlaybackEvent.item_id.is_not(None),
            PlaybackEvent.at >= now - LOOK_BACK,
        )
        .order_by(PlaybackEvent.at, PlaybackEvent.id)
    ).all()
    latest: dict[str, tuple[str, str, datetime]] = {}
    for node_id, kind, item_id, at in events:
        latest[node_id] = (kind, item_id or "", at)
    started = {n: (item, at) for n, (kind, item, at) in latest.items() if kind == "started"}
    lengths = _lengths(session, {item for item, _ in started.values()})
    found = [
        Playing(node_id, online[node_id].name, item, at)
        for node_id, (item, at) in started.items()
        if now < at + lengths.get(item, UNKNOWN_LENGTH) + MARGIN
    ]
    return sorted(found, key=lambda p: (not p.emergency, p.item_id, p.node_name))


def _lengths(session: Session, item_ids: set[str]) -> dict[str, timedelta]:
    """Item id → how long one play lasts, for announcements and emergencies."""
    lengths: dict[str, timedelta] = {}
    ann_ids: dict[int, list[str]] = {}
    for item_id in item_ids:
        entry, _ = entry_and_occurrence(item_id)
        digits = entry.removeprefix(ANNOUNCEMENT_PREFIX)
        if entry.startswith(ANNOUNCEMENT_PREFIX) and digits.isdigit():
            ann_ids.setdefault(int(digits), []).append(item_id)
    if ann_ids:
        rows = session.execute(
            select(Announcement.id, Announcement.duration_s).where(Announcement.id.in_(ann_ids))
        ).all()
        for ann_id, duration in rows:
            for item_id in ann_ids[ann_id]:
                lengths[item_id] = timedelta(seconds=duration)
    emergencies = [i for i in item_ids if i.startswith(EMERGENCY_PREFIX)]
    if emergencies:
        emg_rows = session.execute(
            select(Emergency.item_id, Media.duration_s)
            .join(Media, Media.sha256 == Emergency.media_sha256)
            .where(Emergency.item_id.in_(emergencies))
        ).all()
        lengths.update({item_id: timedelta(seconds=d) for item_id, d in emg_rows})
    return lengths
