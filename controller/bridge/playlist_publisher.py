"""Compile, sign and publish node playlists — only when a node's content changed.

The window is ``[now - 2 h, now + playlist_window_h]`` so an agent that restarts keeps the
item in progress. A :class:`schedules.RepublishGate` seeded from the ``published_playlists``
rows decides what changed; a playlist is recorded as published only after the broker
confirmed the QoS 1 publish (PUBACK), so a controller killed mid-publish republishes on its
next pass instead of believing it is done. Passes are serialised: the API and the horizon
job may ask at the same time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import PublishedPlaylist
from controller.services.playlist_builder import build_playlists
from protocol import topics
from protocol.clock import Clock
from protocol.models import Playlist, PlaylistItem
from protocol.signing import Signer
from schedules import CompileResult, RepublishGate, ScheduleError

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, int, bool], mqtt.MQTTMessageInfo]
LOOKBACK = timedelta(hours=2)


@dataclass
class PublishReport:
    compiled: int = 0
    published: int = 0
    unchanged: int = 0
    unconfirmed: int = 0
    bumped: int = 0
    error: str | None = None


class PlaylistPublisher:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        signer: Signer,
        publish: Publish,
        clock: Clock,
        window: timedelta,
        confirm_timeout_s: float = 10.0,
        decorate: Callable[[PlaylistItem], PlaylistItem] | None = None,
    ) -> None:
        self._sessions = session_factory
        self._signer = signer
        self._publish = publish
        self._clock = clock
        self._window = window
        self._confirm_timeout_s = confirm_timeout_s
        # adds what the compiler does not know (e.g. the Opus rendition beside each MP3)
        self._decorate = decorate
        self._lock = threading.Lock()

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """The compile window for ``now`` (the conflict check uses the same one)."""
        return now - LOOKBACK, now + self._window

    def refresh(self, node_ids: Iterable[str] | None = None) -> PublishReport:
        """Recompile the given nodes (all active nodes when ``None``) and publish changes."""
        with self._lock:
            return self._refresh(None if node_ids is None else list(node_ids))

    def _refresh(self, node_ids: list[str] | None) -> PublishReport:
        report = PublishReport()
        now = self._clock.now()
        window_start, window_end = self.window(now)
        with self._sessions() as session:
            try:
                results = build_playlists(session, now, window_start, window_end, node_ids)
            except ScheduleError as exc:
                log.error("calendar does not compile, nothing published: %s", exc.reason)
                report.error = exc.reason
                return report
            previous = {
                p.node_id: p
                for p in session.scalars(
                    select(PublishedPlaylist).where(PublishedPlaylist.node_id.in_(list(results)))
                )
            }
            gate = RepublishGate({n: p.content_hash for n, p in previous.items()})
            sent: list[tuple[mqtt.MQTTMessageInfo, PublishedPlaylist]] = []
            for node_id in sorted(results):
                result = results[node_id]
                report.compiled += 1
                report.bumped += len(result.bumped)
                if not gate.needs_publish(node_id, result.content_hash):
                    report.unchanged += 1
                    continue
                last = previous.get(node_id)
                sent.append(self._send(node_id, result, now, window_start, window_end, last))
            for info, row in sent:
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(self._confirm_timeout_s)
                if info.is_published():
                    session.merge(row)
                    gate.mark_published(row.node_id, row.content_hash)
                    report.published += 1
                else:
                    report.unconfirmed += 1
            session.commit()
        if report.unconfirmed:
            log.warning("%d playlist publishes not confirmed; will retry", report.unconfirmed)
        return report

    def _send(
        self,
        node_id: str,
        result: CompileResult,
        now: datetime,
        window_start: datetime,
        window_end: datetime,
        last: PublishedPlaylist | None,
    ) -> tuple[mqtt.MQTTMessageInfo, PublishedPlaylist]:
        """Sign and publish one playlist; the row is stored only once the broker confirms."""
        version = max(int(now.timestamp() * 1000), (last.version + 1) if last else 0)
        playlist = Playlist(
            node_id=node_id,
            version=version,
            generated_at=now,
            window_start=window_start,
            window_end=window_end,
            content_hash=result.content_hash,
            items=[self._decorate(i) for i in result.items] if self._decorate else result.items,
            volume_cap=result.volume_cap,
            quiet_hours=list(result.quiet_hours),
        )
        payload = self._signer.sign(playlist)
        info = self._publish(topics.node_playlist(node_id), payload, 1, True)
        row = PublishedPlaylist(
            node_id=node_id,
            version=version,
            content_hash=result.content_hash,
            item_count=len(result.items),
            payload=payload.decode(),
            published_at=now,
        )
        return info, row
