"""Compile, sign and publish node playlists — only when a node's content changed.

The window is ``[now - 2 h, now + playlist_window_h]`` so an agent that restarts keeps the
item in progress. A :class:`schedules.RepublishGate` seeded from the ``published_playlists``
rows decides what changed; a playlist is recorded as published only after the broker
confirmed the QoS 1 publish (PUBACK), so a controller killed mid-publish republishes on its
next pass instead of believing it is done. Passes are serialised: the API and the horizon
job may ask at the same time.

Deltas (:mod:`protocol.playlist_delta`): to a node whose heartbeat says it applies them, a
change is sent as a signed delta from the version last published (CBOR by default) when that
is smaller than the full playlist. The row always keeps the *full* signed playlist of the
newest version, so a node that asks for a snapshot (``playlist_resync`` event) gets exactly
it again (:meth:`PlaylistPublisher.resend_full`). Both are published retained: the retained
message is always the newest version, full or delta. See docs/protocol.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import paho.mqtt.client as mqtt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import Node, PublishedPlaylist
from controller.services.playlist_builder import build_playlists
from protocol import topics
from protocol.clock import Clock
from protocol.models import Playlist, PlaylistItem
from protocol.playlist_delta import make_delta
from protocol.signing import Signer
from schedules import CompileResult, RepublishGate, ScheduleError

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, int, bool], mqtt.MQTTMessageInfo]
LOOKBACK = timedelta(hours=2)
RESEND_MIN_GAP = timedelta(seconds=10)


@dataclass
class PublishReport:
    compiled: int = 0
    published: int = 0
    unchanged: int = 0
    unconfirmed: int = 0
    bumped: int = 0
    deltas: int = 0  # of ``published``, how many went out as deltas
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
        deltas: bool = True,
        delta_encoding: Literal["cbor", "json"] = "cbor",
    ) -> None:
        self._sessions = session_factory
        self._signer = signer
        self._publish = publish
        self._clock = clock
        self._window = window
        self._confirm_timeout_s = confirm_timeout_s
        # adds what the compiler does not know (e.g. the Opus rendition beside each MP3)
        self._decorate = decorate
        self._deltas = deltas
        self._delta_encoding = delta_encoding
        self._lock = threading.Lock()
        self.resent = 0  # full playlists sent again because a node asked
        self._resent: dict[str, tuple[datetime, int]] = {}  # node -> when, which version

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
            takes_delta = self._delta_nodes(session, list(results))
            sent: list[tuple[mqtt.MQTTMessageInfo, PublishedPlaylist, bool]] = []
            for node_id in sorted(results):
                result = results[node_id]
                report.compiled += 1
                report.bumped += len(result.bumped)
                if not gate.needs_publish(node_id, result.content_hash):
                    report.unchanged += 1
                    continue
                last = previous.get(node_id)
                delta_base = last if node_id in takes_delta else None
                playlist = self._playlist(node_id, result, now, window_start, window_end, last)
                sent.append(self._send(playlist, delta_base, now))
            for info, row, as_delta in sent:
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(self._confirm_timeout_s)
                if info.is_published():
                    session.merge(row)
                    gate.mark_published(row.node_id, row.content_hash)
                    report.published += 1
                    report.deltas += as_delta
                else:
                    report.unconfirmed += 1
            session.commit()
        if report.unconfirmed:
            log.warning("%d playlist publishes not confirmed; will retry", report.unconfirmed)
        return report

    def _delta_nodes(self, session: Session, node_ids: list[str]) -> set[str]:
        """The nodes whose last heartbeat said they apply playlist deltas."""
        if not self._deltas or not node_ids:
            return set()
        rows = session.execute(select(Node.id, Node.last_heartbeat).where(Node.id.in_(node_ids)))
        return {node_id for node_id, hb in rows if (hb or {}).get("playlist_delta") is True}

    def _playlist(
        self,
        node_id: str,
        result: CompileResult,
        now: datetime,
        window_start: datetime,
        window_end: datetime,
        last: PublishedPlaylist | None,
    ) -> Playlist:
        version = max(int(now.timestamp() * 1000), (last.version + 1) if last else 0)
        return Playlist(
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

    def _delta_bytes(self, base: PublishedPlaylist, new: dict[str, Any]) -> bytes | None:
        """The signed delta from ``base`` (its stored full playlist), or None if unusable."""
        try:
            envelope = json.loads(base.payload)
            old = envelope["payload"]
        except (ValueError, KeyError, TypeError):
            log.warning("stored playlist of %s unreadable; sending a full one", base.node_id)
            return None
        if not isinstance(old, dict) or old.get("version") != base.version:
            return None
        delta = make_delta(old, new)
        if self._delta_encoding == "cbor":
            return self._signer.sign_dict_cbor(delta)
        return self._signer.sign_dict(delta)

    def _send(
        self, playlist: Playlist, delta_base: PublishedPlaylist | None, now: datetime
    ) -> tuple[mqtt.MQTTMessageInfo, PublishedPlaylist, bool]:
        """Sign and publish one playlist (as a delta when smaller); the row, always holding
        the full signed playlist, is stored only once the broker confirms."""
        data = playlist.model_dump(mode="json", exclude_none=True)
        payload = self._signer.sign_dict(data)
        wire = payload
        if delta_base is not None:
            delta = self._delta_bytes(delta_base, data)
            if delta is not None and len(delta) < len(payload):
                wire = delta
        info = self._publish(topics.node_playlist(playlist.node_id), wire, 1, True)
        row = PublishedPlaylist(
            node_id=playlist.node_id,
            version=playlist.version,
            content_hash=playlist.content_hash,
            item_count=len(playlist.items),
            payload=payload.decode(),
            published_at=now,
        )
        return info, row, wire is not payload

    def resend_full(self, node_id: str) -> bool:
        """Publish the node's newest full playlist again (it asked: a delta did not fit).
        The same version at most once per ``RESEND_MIN_GAP`` per node: a node asks once per
        delta that does not fit, so more is a misbehaving node, and each answer costs its
        own link."""
        with self._lock, self._sessions() as session:
            now = self._clock.now()
            row = session.get(PublishedPlaylist, node_id)
            if row is None:
                return False
            last = self._resent.get(node_id)
            if last is not None and last[1] == row.version and now - last[0] < RESEND_MIN_GAP:
                log.warning("%s asked again for playlist v%d at once", node_id, row.version)
                return False
            self._resent[node_id] = (now, row.version)
            self._publish(topics.node_playlist(node_id), row.payload.encode(), 1, True)
        self.resent += 1
        log.info("full playlist v%d sent again to %s on its request", row.version, node_id)
        return True
