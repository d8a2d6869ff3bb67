"""Live broadcasts from the panel: the operator's microphone → Icecast → the chosen zones.

The browser records Opus/WebM chunks (``MediaRecorder``) and posts them as they come; they
are piped into one :class:`~controller.services.live_relay.IcecastFeed` (ffmpeg → MP3 →
Icecast). Once audio has flowed for ``ON_AIR_AFTER_S`` (ffmpeg has probed the input and the
mount exists) each chosen zone gets a signed ``play_now`` command with a ``stream`` item
playing the mount, which preempts whatever plays; "Kết thúc" stops the feed and sends
``stop`` to the same zones. One broadcast at a time per controller (one mount).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from controller.services.commands import issue_command
from controller.services.live_relay import IcecastFeed, IcecastTarget, LiveRelayError
from protocol.models import CommandAction, ItemKind, PlaylistItem, Priority

if TYPE_CHECKING:
    from controller.services.container import Controller

ON_AIR_AFTER_S = 1.0
MAX_CHUNK_BYTES = 512 * 1024


class LiveError(RuntimeError):
    """A live broadcast cannot start, take audio or stop (the reason is the message)."""


class LiveUnavailable(LiveError):
    """Live is not configured on this controller."""


@dataclass
class LiveSession:
    id: str
    zones: list[str]
    started_at: datetime
    started_by: str | None
    listen_url: str
    feed: IcecastFeed
    item: PlaylistItem
    bytes_in: int = 0
    chunks: int = 0
    first_audio_at: datetime | None = None
    on_air_at: datetime | None = None
    ended_at: datetime | None = None
    command_ids: list[str] = field(default_factory=list)


class LiveDesk:
    """The live broadcast of one controller process (thread-safe)."""

    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl
        self._lock = threading.Lock()
        self.session: LiveSession | None = None

    def unavailable_reason(self) -> str | None:
        s = self.ctl.settings
        if not s.icecast_host or s.icecast_source_password is None:
            return "Icecast is not configured (LOA_ICECAST_HOST, LOA_ICECAST_SOURCE_PASSWORD)"
        return None

    def _target(self) -> IcecastTarget:
        s = self.ctl.settings
        assert s.icecast_host is not None and s.icecast_source_password is not None
        return IcecastTarget(
            s.icecast_host,
            s.icecast_port,
            s.icecast_mount,
            s.icecast_source_password.get_secret_value(),
        )

    def active(self) -> LiveSession | None:
        session = self.session
        if session is not None and session.ended_at is None:
            if self.ctl.clock.now() - session.started_at > timedelta(
                seconds=self.ctl.settings.live_max_s
            ):
                self.stop(session.id, None)
                return None
            return session
        return None

    def start(self, zones: list[str], username: str | None) -> LiveSession:
        reason = self.unavailable_reason()
        if reason:
            raise LiveUnavailable(reason)
        if not zones:
            raise LiveError("choose at least one zone")
        with self._lock:
            if self.active() is not None:
                raise LiveError("a live broadcast is already on air: end it first")
            target = self._target()
            feed = IcecastFeed(target)
            try:
                feed.start()
            except OSError as exc:
                raise LiveError(f"the live feed did not start: {exc}") from None
            now = self.ctl.clock.now()
            live_id = uuid.uuid4().hex[:16]
            listen = self.ctl.settings.icecast_listen_url or target.listen_url
            item = PlaylistItem(
                id=f"live-{live_id}",
                kind=ItemKind.STREAM,
                start=now,
                duration_s=self.ctl.settings.live_max_s,
                priority=Priority.EMERGENCY,
                title="Phát trực tiếp",
                stream_url=listen,
            )
            self.session = LiveSession(live_id, zones, now, username, listen, feed, item)
            return self.session

    def write(self, live_id: str, chunk: bytes) -> LiveSession:
        if len(chunk) > MAX_CHUNK_BYTES:
            raise LiveError(f"audio chunk over {MAX_CHUNK_BYTES} bytes")
        session = self._get(live_id)
        try:
            session.feed.write(chunk)
        except LiveRelayError as exc:
            self.stop(live_id, None)
            raise LiveError(str(exc)) from None
        now = self.ctl.clock.now()
        session.bytes_in += len(chunk)
        session.chunks += 1
        session.first_audio_at = session.first_audio_at or now
        waited = (now - session.first_audio_at).total_seconds()
        if session.on_air_at is None and waited >= ON_AIR_AFTER_S:
            session.on_air_at = now
            for zone in session.zones:  # the mount now exists: the zones switch over
                issued = issue_command(
                    self.ctl,
                    action=CommandAction.PLAY_NOW,
                    zone_id=zone,
                    item=session.item.model_copy(update={"start": now}),
                    ttl=timedelta(minutes=2),
                    created_by=session.started_by,
                )
                session.command_ids.append(issued.command.id)
        return session

    def stop(self, live_id: str, username: str | None) -> LiveSession:
        session = self.session
        if session is None or session.id != live_id:
            raise LiveError(f"no live broadcast {live_id!r}")
        if session.ended_at is not None:
            return session
        session.ended_at = self.ctl.clock.now()
        session.feed.stop()
        if session.on_air_at is not None:
            for zone in session.zones:
                issued = issue_command(
                    self.ctl, action=CommandAction.STOP, zone_id=zone, created_by=username
                )
                session.command_ids.append(issued.command.id)
        return session

    def _get(self, live_id: str) -> LiveSession:
        session = self.active()
        if session is None or session.id != live_id:
            raise LiveError(f"no live broadcast {live_id!r} on air")
        return session


def live_desk(ctl: Controller) -> LiveDesk:
    """This controller's desk (made on first use)."""
    desk = ctl.live_desk
    if not isinstance(desk, LiveDesk):
        desk = LiveDesk(ctl)
        ctl.live_desk = desk
    return desk
