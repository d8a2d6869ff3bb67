"""One village agent: wires sync, cache, playout and report to an MQTT session.

``AgentRuntime(settings).start()`` returns at once with background threads running;
``stop()`` ends them. ``run_forever()`` is what the ``loa agent`` command and systemd use:
it adds signal handling and sd_notify readiness/watchdog pings.
"""

from __future__ import annotations

import logging
import signal
import ssl
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent.backends import make_amplifier, make_player, make_volume
from agent.backends.display import BoardState, DisplayServer
from agent.backends.volume import NoopVolume, Volume
from agent.board import BoardFeeder
from agent.cache import CacheWorker, MediaCache, MediaError
from agent.clock_health import SYNC, clock_offset_ms
from agent.config import AgentSettings
from agent.fetch_deadline import Need
from agent.heartbeat import HeartbeatPolicy
from agent.horn import HornConfig, HornGuard, VolumeMemory
from agent.inbox import Inbox
from agent.mqtt_session import MqttSession, OwnThread, SessionDriver
from agent.outbox import Outbox
from agent.played_log import PlayedLog
from agent.playout import Ack, CommandRefused, Playout, PlayoutConfig, Source
from agent.prefetch import needs_of, slide_images, wanted_files
from agent.progressive import ProgressiveCommands
from agent.report import Reporter, collect_health
from agent.stepping import Stepper, ThreadStepper
from agent.sync import SyncHandler
from agent.systemd_notify import notify, watchdog_loop
from agent.updater import RESTART_EXIT_CODE, Updater
from protocol import topics
from protocol.clock import Clock, SystemClock
from protocol.models import Command, CommandAction, EventKind, ItemKind, Playlist, PlaylistItem
from protocol.signing import Verifier

log = logging.getLogger(__name__)


def _fallback_note(item: PlaylistItem) -> str:
    name = item.media.filename if item.media else "media"
    return f"fallback played: {name} not downloaded and verified"


def horn_config(settings: AgentSettings, volume: Volume) -> HornConfig:
    """The horn-safety settings; no soft start where nothing can change the level while a
    player runs (a player spawned per item with no ALSA mixer: it would stay at the floor)."""
    soft_start_s = settings.soft_start_s
    if isinstance(volume, NoopVolume) and settings.player in ("mpv-spawn", "ffplay", "aplay"):
        if soft_start_s > 0:
            log.warning("soft start needs alsa_control or player = mpv: disabled")
        soft_start_s = 0.0
    return HornConfig(
        max_volume=settings.max_volume,
        soft_start_s=soft_start_s,
        soft_start_floor=settings.soft_start_floor,
        amp_max_on_s=settings.amp_max_on_s,
        amp_cooldown_s=settings.amp_cooldown_s,
    )


class AgentConfigError(RuntimeError):
    """The agent cannot start with this configuration (reason in the message)."""


def fetch_trusted_keys(
    controller_url: str, timeout_s: float = 10.0, verify: ssl.SSLContext | bool = True
) -> list[str]:
    """``GET /api/v1/signing-keys`` once (first start only; pin keys in the config after)."""
    import httpx  # first start only: an idle agent does not carry an HTTP client

    url = controller_url.rstrip("/") + "/api/v1/signing-keys"
    try:
        resp = httpx.get(url, timeout=timeout_s, verify=verify)
        resp.raise_for_status()
        keys = resp.json().get("keys")
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        raise AgentConfigError(f"cannot fetch signing keys from {url}: {exc}") from None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or not keys:
        raise AgentConfigError(f"{url} returned no keys")
    return keys


def media_auth(settings: AgentSettings) -> tuple[str, str] | None:
    """The node's broker account, also its credentials for media downloads (None when the
    node has none: a development broker without accounts)."""
    if settings.mqtt_username is None or settings.mqtt_password is None:
        return None
    return settings.mqtt_username, settings.mqtt_password.get_secret_value()


def build_verifier(settings: AgentSettings) -> Verifier:
    keys = list(settings.trusted_keys)
    if not keys and settings.fetch_keys_on_start:
        keys = fetch_trusted_keys(settings.controller_url, verify=settings.http_verify())
    if not keys:
        raise AgentConfigError(
            "no trusted_keys configured: the agent refuses unsigned control. Set LOA_TRUSTED_KEYS"
            " / trusted_keys, or fetch_keys_on_start = true for a first start"
        )
    try:
        return Verifier.from_b64(keys)
    except ValueError as exc:
        raise AgentConfigError(f"bad trusted key: {exc}") from None


@dataclass(frozen=True)
class Runners:
    """Where an agent's workers and its MQTT session run: by default a thread each.

    A caller running many agents in one process passes shared ones instead (the load
    harness in ``loadsim`` does); the agent itself behaves the same either way.
    """

    steps: Stepper = field(default_factory=ThreadStepper)
    fetches: Stepper = field(default_factory=ThreadStepper)
    network: SessionDriver = field(default_factory=OwnThread)


class AgentRuntime:
    def __init__(
        self,
        settings: AgentSettings,
        clock: Clock | None = None,
        runners: Runners | None = None,
    ) -> None:
        self.settings = settings
        self.runners = runners or Runners()
        self.clock: Clock = clock or SystemClock()
        self.node_id = settings.node_id
        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        self.verifier = build_verifier(settings)
        self.outbox = Outbox(data / "outbox.sqlite")
        self.played = PlayedLog(data / "played.sqlite")
        self.sync = SyncHandler(
            settings.node_id,
            settings.zones,
            self.verifier,
            data,
            self.clock,
            min_playlist_version=settings.min_playlist_version,
        )
        self.cache = MediaCache(
            data / "media",
            settings.controller_url,
            settings.cache_max_mb * 1024 * 1024,
            verify=settings.http_verify(),
            auth=media_auth(settings),
        )
        player = make_player(settings)
        amplifier = make_amplifier(settings)
        volume = make_volume(settings, player)
        self.volume_memory = VolumeMemory(data / "horn.sqlite")
        self.playout = Playout(
            self.clock,
            player,
            amplifier,
            volume,
            self.played,
            self._emit,
            self._resolve,
            PlayoutConfig(
                late_grace_s=settings.late_grace_s,
                amp_lead_s=settings.amp_lead_s,
                amp_tail_s=settings.amp_tail_s,
                emergency_volume=settings.emergency_volume,
                rt_priority=settings.rt_priority,
            ),
            handlers={
                CommandAction.SYNC: self._sync_command,
                CommandAction.REBOOT: self._reboot_command,
                CommandAction.UPDATE: self._update_command,
            },
            horn=HornGuard(horn_config(settings, volume), volume, amplifier, self.volume_memory),
        )
        # a finished download wakes the playout: an item may be waiting for exactly that file
        self.cache_worker = CacheWorker(
            self.cache, self.clock, 1.0, settings.media_retry_max_s, self.playout.poke
        )
        self.progressive = ProgressiveCommands(
            self.cache,
            data / "streams",
            self.playout.submit,
            self._emit,
            settings.progressive_start_chunks,
        )
        self.inbox = Inbox(self.clock)
        on_command = self.inbox.route(self._on_command)
        handlers: dict[str, Callable[[bytes], None]] = {
            topics.node_playlist(self.node_id): self.inbox.route(self._on_playlist),
            topics.node_cmd(self.node_id): on_command,
            topics.node_events_ack(self.node_id): self.inbox.route(self._on_ack),
        }
        for zone in settings.zones:
            handlers[topics.zone_cmd(zone)] = on_command
        self.session = MqttSession(
            settings,
            handlers,
            on_connected=self._on_connected,
            driver=self.runners.network,
        )
        self.reporter = Reporter(
            self.node_id,
            self.outbox,
            self.session,
            self.clock,
            settings.heartbeat_interval_s,
            settings.outbox_resend_s,
            self._heartbeat_fields,
            settings.report_linger_s,
            policy=HeartbeatPolicy(
                check_s=settings.heartbeat_interval_s,
                max_interval_s=settings.sign_of_life_s,
                full_every_s=settings.heartbeat_full_every_s,
                confirm_every=settings.heartbeat_confirm_every,
            )
            if settings.heartbeat_delta
            else None,
            compact=settings.heartbeat_encoding == "cbor",
        )
        # a delta that does not fit asks for the full playlist, as a reliable event (outbox)
        self.sync.request_snapshot = lambda reason: self._emit(
            EventKind.PLAYLIST_RESYNC, None, None, reason
        )
        self.updater = Updater(
            settings,
            self.clock,
            self.verifier,
            lambda now: self.playout.update_blocker(now, settings.update_quiet_s),
            lambda kind, detail: self._emit(kind, None, None, detail),
            self.request_restart,
        )
        self.board: BoardFeeder | None = None
        if settings.display_port is not None:
            display = DisplayServer(data / "media", settings.display_port, self._on_displayed)
            self.board = BoardFeeder(display, self.playout, self.clock, self.cache.has)
        self._stopped = threading.Event()
        self._started = False
        self._run_stop = threading.Event()
        self._exit_code = 0
        # command id -> when it arrived: the protocol defines a command_ack's / rejection's
        # ``at`` as the command's arrival on the node (protocol.models.PlaybackEvent)
        self._command_arrivals: dict[str, datetime] = {}
        self._arrivals_lock = threading.Lock()

    # -- wiring --------------------------------------------------------------------------
    def _on_displayed(self, state: BoardState) -> None:
        """The screen changed: an event like an audio start, so the controller's log has it."""
        self._emit(EventKind.DISPLAYED, state.item_id, None, state.summary())

    def _emit(
        self, kind: EventKind, item_id: str | None, command_id: str | None, detail: str
    ) -> None:
        current = self.sync.current
        at = self.clock.now()
        if command_id is not None and kind in (EventKind.COMMAND_ACK, EventKind.COMMAND_REJECTED):
            with self._arrivals_lock:
                at = self._command_arrivals.pop(command_id, at)
        self.outbox.append(
            kind,
            at,
            item_id=item_id,
            command_id=command_id,
            playlist_version=current.version if current else None,
            detail=detail,
        )
        self.reporter.notify()

    def _resolve(self, item: PlaylistItem) -> Source | None:
        """A verified cached file (the item's media, else its fallback), never a download
        URL: only bytes whose SHA-256 matched may reach the speaker. Streams (live relays)
        are the one kind played from a URL, and only ``stream`` items carry one."""
        if item.kind is ItemKind.STREAM:
            return Source(item.stream_url) if item.stream_url else None
        if item.kind is ItemKind.SILENCE:
            return Source("silence")
        for media in (item.media, item.fallback):
            path = None if media is None else self.cache.verified_path(media)
            if media is not None and path is not None:
                self.cache.touch(media)
                note = "" if media is item.media else _fallback_note(item)
                return Source(str(path), note)
            if media is item.media and media is not None:
                streaming = self.progressive.source_for(media)  # verified chunks, piped
                if streaming is not None:
                    return streaming
        return None

    def _in_our_format(self, item: PlaylistItem) -> PlaylistItem:
        """The item with the encoding of its media this agent prefers (verified already:
        the signature covered every alternative's SHA-256)."""
        if item.media is None or not item.media.alternatives:
            return item
        # A rendition already in the cache beats a smaller one still to fetch: the
        # pre-cached evacuation notice must start at once, not after a download.
        cached = [
            ext
            for ext in self.settings.audio_formats
            if self.cache.has(item.media.in_format([ext]))
        ]
        preferred = [*cached, *self.settings.audio_formats]
        return item.model_copy(update={"media": item.media.in_format(preferred)})

    def _accept_playlist(self, playlist: Playlist) -> None:
        playlist = playlist.model_copy(
            update={"items": [self._in_our_format(i) for i in playlist.items]}
        )
        self.cache_worker.want(wanted_files(playlist.items), needs_of(playlist.items))
        self.playout.set_playlist(playlist)

    def _on_playlist(self, raw: bytes, _arrived: datetime) -> None:
        playlist = self.sync.handle_playlist(raw)
        if playlist is not None:
            self._accept_playlist(playlist)

    def _on_command(self, raw: bytes, arrived: datetime) -> None:
        outcome = self.sync.handle_command(raw)
        command = outcome.command
        if command is None:
            return
        with self._arrivals_lock:
            if len(self._command_arrivals) > 1000:  # acks that never came: do not grow forever
                self._command_arrivals.clear()
            self._command_arrivals[command.id] = arrived
        if not outcome.accepted:
            self._emit(EventKind.COMMAND_REJECTED, None, command.id, outcome.reason)
            return
        if command.item is not None:
            item = self._in_our_format(command.item)
            command = command.model_copy(update={"item": item})
            now = self.clock.now()  # an emergency's slides, needed as it plays
            need = Need(now, now + timedelta(seconds=item.duration_s))
            self.cache_worker.want_also(slide_images(item), need)
        media = command.item.media if command.item else None
        if media is not None and not self.cache.has(media):
            if self.settings.progressive_media and self.progressive.applies(command, media):
                self.progressive.start(command)
                return
            threading.Thread(target=self._fetch_then_submit, args=(command,), daemon=True).start()
        else:
            self.playout.submit(command)

    def _fetch_then_submit(self, command: Command) -> None:
        assert command.item is not None and command.item.media is not None
        try:
            self.cache.fetch(command.item.media)
        except (MediaError, OSError) as exc:
            log.warning("command %s media not fetched: %s", command.id, exc)
        self.playout.submit(command)

    def _on_ack(self, raw: bytes, _arrived: datetime) -> None:
        self.reporter.on_ack(raw)

    def _on_connected(self) -> None:
        self.reporter.on_connected()
        self.cache_worker.link_up()  # the controller may be back: needed files soon

    def _sync_command(self, _command: Command, _now: datetime, _ack: Ack) -> None:
        current = self.sync.current
        if current is not None:
            self._accept_playlist(current)
        self.reporter.on_connected()

    def _reboot_command(self, command: Command, _now: datetime, ack: Ack) -> None:
        if not self.settings.allow_reboot:
            raise CommandRefused("reboot is disabled on this node")
        log.warning("reboot requested by command %s", command.id)
        ack("rebooting in 5 s")
        threading.Timer(5.0, self._reboot).start()

    def _update_command(self, command: Command, _now: datetime, ack: Ack) -> None:
        if command.update is None:
            raise CommandRefused("update without its version, URL and SHA-256")
        ack(f"update to {command.update.version} accepted")
        self.updater.start(command.update)

    @staticmethod
    def _reboot() -> None:
        subprocess.run(["systemctl", "reboot"], check=False)

    def _heartbeat_fields(self) -> dict[str, Any]:
        fields = collect_health(self.settings.data_dir)
        cache_bytes, cache_items = self.cache.usage()
        current = self.sync.current
        fields.update(
            agent_version=self.settings.agent_version,
            volume=self.playout.volume.level,
            amplifier_on=self.playout.amplifier.is_on,
            current_item=self.playout.current_item,
            playlist_version=current.version if current else None,
            cache_bytes=cache_bytes,
            cache_items=cache_items,
            audio_formats=list(self.settings.audio_formats),
            playlist_delta=self.settings.playlist_delta,
        )
        fields.update(self._clock_fields())
        if self.session.connected.is_set():
            self.updater.confirm()  # a release on trial has come back: connected, reporting
        return fields

    def _clock_fields(self) -> dict[str, Any]:
        """Offset (chrony's own, else the kernel's) and the daemon's sync state."""
        sync = SYNC.state()
        offset = sync.offset_ms if sync.offset_ms is not None else clock_offset_ms()
        return {
            "clock_offset_ms": offset,
            "clock_source": sync.source,
            "clock_synced": sync.synced,
        }

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start all workers and return; plays from the saved playlist even with no broker."""
        if self._started:
            return
        self._started = True
        self.played.prune(self.clock.now())
        self.updater.report_rollback()
        saved = self.sync.load_saved()
        if saved is not None:
            log.info("playing on from saved playlist v%d", saved.version)
            self._accept_playlist(saved)
        steps = self.runners.steps
        self.inbox.start(steps)
        self.playout.start(steps)
        self.cache_worker.start(self.runners.fetches)
        self.reporter.start(steps)
        if self.board is not None:
            self.board.start()
        self.session.start()

    def stop(self) -> None:
        if not self._started or self._stopped.is_set():
            self._stopped.set()
            return
        self._stopped.set()
        self.updater.stop()
        if self.board is not None:
            self.board.stop()
        self.playout.stop()
        self.session.stop()
        self.inbox.stop()
        self.reporter.stop()
        self.cache_worker.stop()
        self.outbox.close()
        self.played.close()
        self.volume_memory.close()
        self.sync.close()

    def healthy(self) -> bool:
        """Used for the systemd watchdog: the clock thread must be alive."""
        return self.playout.alive()

    def request_restart(self) -> None:
        """Leave ``run_forever`` with status 75: loa-release starts ``current`` again."""
        self._exit_code = RESTART_EXIT_CODE
        self._run_stop.set()

    def run_forever(self) -> int:
        stop = self._run_stop
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.start()
        notify("READY=1")
        try:
            watchdog_loop(stop, self.healthy)
        finally:
            notify("STOPPING=1")
            self.stop()
        return self._exit_code
