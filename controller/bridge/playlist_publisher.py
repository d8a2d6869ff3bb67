"""Compile, sign and publish node playlists — only when a node's content changed.

A playlist is recorded as published only after the broker confirmed the QoS 1 publish, so a
controller killed mid-publish republishes on its next pass instead of believing it is done.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

import paho.mqtt.client as mqtt
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import Announcement, AnnouncementTarget, Node, PublishedPlaylist
from controller.services.playlist_builder import build_playlist
from controller.services.zones import ZoneTree, node_zone_ids
from protocol import topics
from protocol.clock import Clock
from protocol.models import Playlist
from protocol.signing import Signer

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, int, bool], mqtt.MQTTMessageInfo]
LOOKBACK = timedelta(hours=2)


@dataclass
class PublishReport:
    compiled: int = 0
    published: int = 0
    unchanged: int = 0
    unconfirmed: int = 0


class PlaylistPublisher:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        signer: Signer,
        publish: Publish,
        clock: Clock,
        window: timedelta,
        confirm_timeout_s: float = 10.0,
    ) -> None:
        self._sessions = session_factory
        self._signer = signer
        self._publish = publish
        self._clock = clock
        self._window = window
        self._confirm_timeout_s = confirm_timeout_s

    def refresh(self, node_ids: Iterable[str] | None = None) -> PublishReport:
        """Recompile the given nodes (all active nodes when ``None``) and publish changes."""
        report = PublishReport()
        now = self._clock.now()
        window_start, window_end = now - LOOKBACK, now + self._window
        with self._sessions() as session:
            tree = ZoneTree.load(session)
            query = select(Node).where(Node.revoked_at.is_(None))
            if node_ids is not None:
                query = query.where(Node.id.in_(list(node_ids)))
            nodes = list(session.scalars(query))
            announcements = list(
                session.scalars(
                    select(Announcement).where(
                        Announcement.cancelled_at.is_(None),
                        Announcement.start < window_end,
                        or_(Announcement.valid_until.is_(None), Announcement.valid_until > now),
                    )
                )
            )
            published = {
                p.node_id: p
                for p in session.scalars(
                    select(PublishedPlaylist).where(
                        PublishedPlaylist.node_id.in_([n.id for n in nodes])
                    )
                )
            }
            sent: list[tuple[mqtt.MQTTMessageInfo, PublishedPlaylist]] = []
            for node in nodes:
                zones = node_zone_ids(session, tree, node)
                mine = [a for a in announcements if _targets(a.targets, node.id, zones)]
                built = build_playlist(mine, window_start, window_end)
                report.compiled += 1
                previous = published.get(node.id)
                if previous is not None and previous.content_hash == built.content_hash:
                    report.unchanged += 1
                    continue
                version = max(
                    int(now.timestamp() * 1000), (previous.version + 1) if previous else 0
                )
                playlist = Playlist(
                    node_id=node.id,
                    version=version,
                    generated_at=now,
                    window_start=window_start,
                    window_end=window_end,
                    content_hash=built.content_hash,
                    items=built.items,
                )
                payload = self._signer.sign(playlist)
                info = self._publish(topics.node_playlist(node.id), payload, 1, True)
                row = PublishedPlaylist(
                    node_id=node.id,
                    version=version,
                    content_hash=built.content_hash,
                    item_count=len(built.items),
                    payload=payload.decode(),
                    published_at=now,
                )
                sent.append((info, row))
            for info, row in sent:
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(self._confirm_timeout_s)
                if info.is_published():
                    session.merge(row)
                    report.published += 1
                else:
                    report.unconfirmed += 1
            session.commit()
        if report.unconfirmed:
            log.warning("%d playlist publishes not confirmed; will retry", report.unconfirmed)
        return report


def _targets(targets: list[AnnouncementTarget], node_id: str, zones: frozenset[str]) -> bool:
    return any(
        t.node_id == node_id or (t.zone_id is not None and t.zone_id in zones) for t in targets
    )
