"""The playout clock: starts each item on time, with or without a network.

All decisions happen in :meth:`Playout.step`, which takes no time of its own: it reads the
injected clock, starts/stops/reports what is due, and returns how long to sleep. Unit tests
call it with a ``FakeClock``; :meth:`Playout.run` is the thin real-time loop that sleeps on a
wake-up event (set by a new playlist or a command) until the next start.

Policies:
- an item up to ``late_grace_s`` late starts from its beginning; later, ``join`` plays from
  the current offset (also after a restart or a preemption) and ``skip`` reports it skipped;
- an item whose whole slot passed unplayed is reported ``missed``;
- ``play_now``/``emergency`` commands preempt whatever plays; afterwards the interrupted item
  resumes if its slot has not ended (by its late policy);
- an item with a higher priority preempts a lower one; streams stop at the end of their slot;
- horn safety (:mod:`agent.horn`): every level is capped, sound on a cold amplifier ramps
  up, the amplifier's duty limit is enforced, and no non-emergency item starts inside the
  playlist's quiet hours (reported ``skipped``);
- only verified media is played: ``resolve`` gives a cached file whose hash matched (or the
  item's verified fallback), never a download URL. If neither is there at the start, the item
  waits up to ``late_grace_s`` (at most half its slot) for the download, still starting from
  its beginning, then is reported ``failed`` with the reason and skipped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.backends.amplifier import Amplifier
from agent.backends.player import Playback, Player, PlayRequest, SilentPlayback
from agent.backends.volume import Volume
from agent.horn import HornConfig, HornGuard
from agent.played_log import FINAL_STATES, PlayedLog
from agent.realtime import promote_current_thread
from agent.stepping import Runner, Stepper, ThreadStepper
from protocol.clock import Clock
from protocol.models import (
    Command,
    CommandAction,
    EventKind,
    ItemKind,
    LatePolicy,
    Playlist,
    PlaylistItem,
    Priority,
)
from protocol.quiet_hours import QuietWindow, quiet_at

log = logging.getLogger(__name__)

EmitFn = Callable[[EventKind, str | None, str | None, str], None]
"""``emit(kind, item_id, command_id, detail)``: record an event durably."""


@dataclass(frozen=True)
class Source:
    """Where to play an item from: a verified cached file, a stream URL (``stream`` items
    only) or ``silence``; ``note`` goes into the ``started`` event (e.g. a fallback played)."""

    location: str
    note: str = ""


ResolveFn = Callable[[PlaylistItem], Source | None]
"""Where to play an item from; None if nothing verified is available."""
Ack = Callable[[str], None]
"""``ack(detail)``: acknowledge the command now ("" = the action's name); at most once."""
CommandHandler = Callable[[Command, datetime, Ack], None]
"""Runs one command on the clock thread. It may call ``ack`` at the point the command is
under way (a play acknowledges before it starts); otherwise it is acknowledged when the
handler returns. Raising :class:`CommandRefused` before acknowledging rejects it."""


class CommandRefused(Exception):
    """A handler refuses its command: it is rejected with this reason, not acknowledged."""


PRELOAD_S = 1.5  # hand the next item to the player this long ahead (agent.backends.mpv_ipc)
MAX_SLEEP_S = 30.0  # re-read the wall clock at least this often (NTP steps)
STALL_S = 2 * MAX_SLEEP_S  # no step finished for this long: the clock is stuck (watchdog)
POLL_S = 0.5  # how often a running player is checked for an early exit
EPSILON_S = 0.001
# The clock thread wakes this long before a scheduled start, does the step's work then
# (preload check, amplifier, bookkeeping), and waits out the rest itself: the last SPIN_S by
# polling the monotonic clock, which ends on time where a timed sleep may come back late.
# Short enough that the watchdog's freshness check (STALL_S) never notices it.
WAKE_EARLY_S = 0.02
SPIN_S = 0.002


def wait_precisely(seconds: float) -> None:
    """Sleep ``seconds`` but the last ``SPIN_S``, then poll ``time.perf_counter``."""
    deadline = time.perf_counter() + seconds
    if seconds > SPIN_S:
        time.sleep(seconds - SPIN_S)
    while time.perf_counter() < deadline:
        pass


def _same(a: PlaylistItem, b: PlaylistItem) -> bool:
    """The same occurrence, possibly from a newer playlist version."""
    return a.id == b.id and a.start == b.start


@dataclass
class Playing:
    item: PlaylistItem
    playback: Playback
    end_at: datetime
    command: Command | None = None
    repeats_left: int = 0


@dataclass
class Recurring:
    """A command that plays again every ``repeat_every_s`` (an emergency repeated for an hour)."""

    command: Command
    next_at: datetime
    plays_left: int


@dataclass(frozen=True)
class PlayoutConfig:
    late_grace_s: float = 2.0
    amp_lead_s: float = 2.0
    amp_tail_s: float = 5.0
    default_volume: int | None = None
    emergency_volume: int = 100
    # SCHED_FIFO priority of the clock thread (agent.realtime); 0 = ordinary scheduling
    rt_priority: int = 0


class Playout:
    def __init__(
        self,
        clock: Clock,
        player: Player,
        amplifier: Amplifier,
        volume: Volume,
        played: PlayedLog,
        emit: EmitFn,
        resolve: ResolveFn,
        config: PlayoutConfig | None = None,
        handlers: dict[CommandAction, CommandHandler] | None = None,
        horn: HornGuard | None = None,
        wait: Callable[[float], None] = wait_precisely,
    ) -> None:
        self.clock = clock
        self._wait = wait  # the final stretch before a start (tests pass a recorder)
        self.player = player
        self.amplifier = amplifier
        self.volume = volume
        self.played = played
        self.emit = emit
        self.resolve = resolve
        self.config = config or PlayoutConfig()
        self.horn = horn or HornGuard(HornConfig(), volume, amplifier)
        # every action the agent executes, in one table: playout's own, plus the runtime's
        # (sync, reboot) passed in ``handlers``
        self._handlers = {**self._command_handlers(), **(handlers or {})}
        self.playlist: Playlist | None = None
        self._plan: list[tuple[float, float, PlaylistItem]] = []
        self._plan_keys: set[str] = set()
        self._cursor = 0
        self.playing: Playing | None = None
        self.amp_forced: bool | None = None
        restored = self.horn.restored_volume()  # the last commanded level, not a default
        self.base_volume = restored if restored is not None else self.config.default_volume
        self._quiet: tuple[QuietWindow, ...] = ()
        self._cap_applied: Playlist | None = None
        self._last_end: datetime | None = None
        self._media_wait_until: datetime | None = None
        self._next_item: PlaylistItem | None = None
        self._next_start: datetime | None = None
        self._promote = False  # raise the clock thread's priority on its first step
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._recurring: dict[str, Recurring] = {}
        self._lock = threading.Lock()
        self._runner = Runner("playout", self._timed_step)
        self.stall_after_s = STALL_S
        self._last_step_done = time.monotonic()

    # -- inputs (any thread) -------------------------------------------------------------
    def set_playlist(self, playlist: Playlist) -> None:
        plan = [(i.start.timestamp(), i.end_ts, i) for i in playlist.items]
        keys = {PlayedLog.key(i) for i in playlist.items}
        quiet = tuple(QuietWindow.parse(w) for w in playlist.quiet_hours)
        with self._lock:
            self._quiet = quiet
            self.playlist = playlist
            self._plan = plan
            self._plan_keys = keys
            self._cursor = 0
        self.poke()

    def submit(self, command: Command) -> None:
        """Queue a verified command; it is executed and acknowledged by the clock thread."""
        self._commands.put(command)
        self.poke()

    def poke(self) -> None:
        """Run a step soon (any thread); before ``start`` the first step comes anyway."""
        self._runner.poke()

    @property
    def current_item(self) -> str | None:
        playing = self.playing
        return playing.item.id if playing else None

    def update_blocker(self, now: datetime, window_s: float) -> str | None:
        """Why an agent update must wait: something plays, a repeating command (emergency) is
        active, or a scheduled item starts within ``window_s``; None when all is quiet."""
        playing = self.playing
        if playing is not None:
            return f"playing {playing.item.id}"
        if self._recurring:
            return "a repeating command (emergency) is active"
        until = now.timestamp() + window_s
        with self._lock:
            plan = list(self._plan)
        for start, end, item in plan:
            if end > now.timestamp() and start < until:
                return f"{item.id} is due within {window_s:.0f} s"
        return None

    # -- the decision step ---------------------------------------------------------------
    def step(self) -> float:
        """Do what is due now; return seconds until something else becomes due."""
        now = self.clock.now()
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            self._run_command(command, now)
        self._apply_playlist_cap(now)
        self._check_duty(now)
        self._check_playing(now)
        self._run_recurring(now)
        self._drop_if_removed(now)
        next_start = self._schedule(now)
        self._next_start = next_start
        self._drive_amplifier(now, next_start)
        self._prepare_next(now, next_start)
        wake = self._next_wake(now, next_start)
        self.horn.ramp_tick(now)
        horn_due = self.horn.next_deadline(now)
        if horn_due is not None:
            wake = min(wake, max(0.0, (horn_due - now).total_seconds()))
        if self._recurring:
            soonest = min(r.next_at for r in self._recurring.values())
            wake = min(wake, max(0.0, (soonest - now).total_seconds()))
        return wake

    def _apply_playlist_cap(self, now: datetime) -> None:
        playlist = self.playlist
        if playlist is not None and playlist is not self._cap_applied:
            self._cap_applied = playlist
            self.horn.set_playlist_cap(playlist.volume_cap, now)

    def _check_duty(self, now: datetime) -> None:
        """Past the amplifier's maximum on-time: stop, switch off, cool down, report.
        An emergency playing is never cut; the limit is looked at again when it ends."""
        playing = self.playing
        if playing is not None and _is_emergency(playing.command):
            return
        on_for = self.horn.duty_exceeded(now)
        if on_for is None:
            return
        if playing is not None:
            self._interrupt(playing, now, "amplifier duty limit")
        cfg = self.horn.config
        self.emit(
            EventKind.AMP_DUTY_LIMIT,
            None,
            None,
            f"amplifier on for {on_for:.0f} s (limit {cfg.amp_max_on_s:.0f} s):"
            f" off for {cfg.amp_cooldown_s:.0f} s to cool down",
        )

    def _run_recurring(self, now: datetime) -> None:
        for command_id, rec in list(self._recurring.items()):
            if rec.next_at > now:
                continue
            stop_at = min(t for t in (rec.command.until, rec.command.expires_at) if t is not None)
            if now >= stop_at or rec.plays_left <= 0:
                del self._recurring[command_id]
                continue
            if self.playing is not None:
                self._interrupt(self.playing, now, f"command {command_id} repeats")
            rec.plays_left -= 1
            rec.next_at += timedelta(seconds=rec.command.repeat_every_s or 0)
            if rec.plays_left <= 0:
                del self._recurring[command_id]
            self._start_command_item(rec.command, now, 0)

    def _check_playing(self, now: datetime) -> None:
        playing = self.playing
        if playing is None:
            return
        status = playing.playback.poll()
        if now + timedelta(seconds=EPSILON_S) >= playing.end_at:
            self._finish(playing, now, EventKind.FINISHED, "")
        elif status is not None and status != 0:
            self._finish(playing, now, EventKind.FAILED, f"player exited with status {status}")
        elif status == 0 and playing.item.kind is ItemKind.STREAM:
            self._finish(playing, now, EventKind.FAILED, "stream ended early")
        elif status == 0:
            self._finish(playing, now, EventKind.FINISHED, "")

    def _drop_if_removed(self, now: datetime) -> None:
        """A newer playlist without the playing item (cancelled by the operator) stops it."""
        playing = self.playing
        if playing is None or playing.command is not None:
            return
        with self._lock:
            removed = PlayedLog.key(playing.item) not in self._plan_keys
        if removed:
            playing.playback.stop()
            self.playing = None
            self._last_end = now
            self.played.mark(playing.item, "stopped", now)
            self.emit(EventKind.FINISHED, playing.item.id, None, "removed from playlist")

    def _finish(self, playing: Playing, now: datetime, kind: EventKind, detail: str) -> None:
        playing.playback.stop()
        self.playing = None
        self._last_end = now
        if playing.command is None:
            state = "finished" if kind is EventKind.FINISHED else "failed"
            self.played.mark(playing.item, state, now)
        self.emit(kind, playing.item.id, playing.command.id if playing.command else None, detail)
        if playing.command is not None and playing.repeats_left > 0 and kind is EventKind.FINISHED:
            self._start_command_item(playing.command, now, playing.repeats_left - 1)

    def _schedule(self, now: datetime) -> datetime | None:
        """Report missed items, start the winning due item; return the next future start.

        Items are sorted by start, so the scan begins at a cursor past the items already
        done and stops at the first future start: a step costs the same with 5 or 5000 items.
        """
        with self._lock:
            plan, cursor = self._plan, self._cursor
        now_ts = now.timestamp()
        due: list[PlaylistItem] = []
        next_start: datetime | None = None
        self._next_item = None
        new_cursor, advancing = cursor, True
        for index in range(cursor, len(plan)):
            start_ts, end_ts, item = plan[index]
            if start_ts > now_ts + EPSILON_S:
                next_start = item.start
                self._next_item = item
                break
            state = self.played.state(item)
            if state not in FINAL_STATES:
                if self.playing is not None and _same(self.playing.item, item):
                    advancing = False
                    continue
                if end_ts > now_ts:
                    advancing = False
                    due.append(item)
                    continue
                self._report_passed(item, state, now)
            if advancing:
                new_cursor = index + 1
        with self._lock:
            if self._plan is plan:
                self._cursor = new_cursor
        if due:
            best = max(due, key=lambda i: (int(i.priority), i.start))
            playing = self.playing
            if playing is None or (
                playing.command is None and best.priority > playing.item.priority
            ):
                if self._held_back(best, now):
                    return next_start
                source = self._source_or_wait(best, now)
                if source is not None:
                    if playing is not None:
                        self._interrupt(playing, now, f"preempted by {best.id}")
                    self._start_scheduled(best, now, source)
        return next_start

    def _held_back(self, item: PlaylistItem, now: datetime) -> bool:
        """Quiet hours refuse a non-emergency item for good (``skipped``); a cool-down only
        delays it (it starts, or joins, when the amplifier may come on again)."""
        if item.priority >= Priority.EMERGENCY:
            return False
        with self._lock:
            quiet = self._quiet
        window = quiet_at(quiet, now)
        if window is not None:
            self.played.mark(item, "skipped", now)
            self.emit(EventKind.SKIPPED, item.id, None, f"quiet hours {window}")
            return True
        return self.horn.cooling(now)

    def _source_or_wait(self, item: PlaylistItem, now: datetime) -> Source | None:
        """The verified source of a due item; None while its download may still arrive within
        ``late_grace_s`` (a wake-up is set), or after reporting it failed and skipped."""
        source = self.resolve(item)
        if source is not None:
            return source
        late = (now - item.start).total_seconds()
        wait_s = min(self.config.late_grace_s, item.duration_s / 2)  # report within the slot
        state = self.played.state(item)
        if item.kind is not ItemKind.STREAM and late < wait_s and not state:
            self._media_wait_until = item.start + timedelta(seconds=wait_s)
            return None
        self.played.mark(item, "failed", now)
        self.emit(EventKind.FAILED, item.id, None, _unavailable(item, late))
        return None

    def _report_passed(self, item: PlaylistItem, state: str | None, now: datetime) -> None:
        """Close the books on an item whose slot ended while it was not playing."""
        if state is None:
            self.played.mark(item, "missed", now)
            self.emit(EventKind.MISSED, item.id, None, "slot passed without playing")
        elif state == "started":  # the agent died (power cut) while playing it
            self.played.mark(item, "failed", now)
            self.emit(EventKind.FAILED, item.id, None, "interrupted: agent stopped while playing")
        else:  # interrupted by a command or a higher priority: already reported
            self.played.mark(item, "skipped", now)

    def _start_scheduled(self, item: PlaylistItem, now: datetime, source: Source) -> None:
        late = (now - item.start).total_seconds()
        # started before (then a power cut) or preempted: pick up where the slot is now
        state = self.played.state(item)
        resuming = state in ("interrupted", "started")
        offset = 0.0
        if late > self.config.late_grace_s or resuming:
            if item.late_policy is LatePolicy.SKIP:
                self.played.mark(item, "skipped", now)
                if state != "interrupted":  # a preemption was already reported
                    self.emit(EventKind.SKIPPED, item.id, None, f"late by {late:.1f}s")
                return
            offset = max(0.0, late)
        end_at = item.start + timedelta(seconds=item.duration_s)
        detail = "; ".join(
            d
            for d in (f"joined at +{offset:.1f}s" if offset else "", source.note, _languages(item))
            if d
        )
        if self._play(item, source, now, end_at, offset, None, 0, self._volume_for(item)):
            self.played.mark(item, "started", now)
            self.emit(EventKind.STARTED, item.id, None, detail)
        else:
            self.played.mark(item, "failed", now)

    def _play(
        self,
        item: PlaylistItem,
        source: Source,
        now: datetime,
        end_at: datetime,
        offset: float,
        command: Command | None,
        repeats_left: int,
        volume: int | None,
    ) -> bool:
        command_id = command.id if command else None
        if self.amp_forced is not False or command is not None:
            self.horn.amp(True, now, emergency=_is_emergency(command))
        level = self.horn.start_sound(volume, now)  # capped; ramps up on a cold amplifier
        duration = max(0.0, (end_at - now).total_seconds())
        request = PlayRequest(item.id, item.kind.value, source.location, offset, duration, level)
        try:
            silent = item.kind is ItemKind.SILENCE
            playback = SilentPlayback() if silent else self.player.play(request)
        except OSError as exc:
            self.emit(EventKind.FAILED, item.id, command_id, f"player failed: {exc}")
            return False
        self.playing = Playing(item, playback, end_at, command, repeats_left)
        return True

    def _volume_for(self, item: PlaylistItem) -> int | None:
        return item.volume if item.volume is not None else self.base_volume

    def _interrupt(self, playing: Playing, now: datetime, reason: str) -> None:
        playing.playback.stop()
        self.playing = None
        if playing.command is None:
            self.played.mark(playing.item, "interrupted", now)
        command_id = playing.command.id if playing.command else None
        self.emit(EventKind.FINISHED, playing.item.id, command_id, f"interrupted: {reason}")

    # -- commands ------------------------------------------------------------------------
    def _run_command(self, command: Command, now: datetime) -> None:
        """Run the action's handler (one table: :meth:`_command_handlers`) and acknowledge it,
        or reject it with the reason its handler gave."""
        handler = self._handlers.get(command.action)
        acked = False

        def ack(detail: str = "") -> None:
            nonlocal acked
            if not acked:
                acked = True
                self.emit(EventKind.COMMAND_ACK, None, command.id, detail or command.action.value)

        try:
            if handler is None:
                raise CommandRefused(f"{command.action.value} is not supported by this agent")
            handler(command, now, ack)
        except CommandRefused as exc:
            if acked:  # a handler bug: it refused after acknowledging
                log.error("command %s refused after its ack: %s", command.id, exc)
                return
            self.emit(EventKind.COMMAND_REJECTED, None, command.id, str(exc))
            return
        ack()

    def _command_handlers(self) -> dict[CommandAction, CommandHandler]:
        return {
            CommandAction.PLAY_NOW: self._play_command,
            CommandAction.EMERGENCY: self._play_command,
            CommandAction.STOP: self._stop_command,
            CommandAction.CANCEL_EMERGENCY: self._stop_command,
            CommandAction.VOLUME: self._volume_command,
            CommandAction.POWER: self._power_command,
        }

    def _play_command(self, command: Command, now: datetime, ack: Ack) -> None:
        if self.playing is not None:
            self._interrupt(self.playing, now, f"command {command.id}")
        ack("")  # under way: acknowledged before the item's own events
        if command.repeat_every_s:
            # spaced repeats: one play now, the others every repeat_every_s from this start
            self._recurring[command.id] = Recurring(
                command, now + timedelta(seconds=command.repeat_every_s), command.repeat - 1
            )
            self._start_command_item(command, now, 0)
        else:
            self._start_command_item(command, now, command.repeat - 1)

    def _stop_command(self, command: Command, now: datetime, ack: Ack) -> None:
        """``stop`` ends whatever plays; ``cancel_emergency`` only an emergency."""
        stop_all = command.action is CommandAction.STOP
        for command_id, rec in list(self._recurring.items()):
            if stop_all or rec.command.action is CommandAction.EMERGENCY:
                del self._recurring[command_id]
        playing = self.playing
        is_emergency = (
            playing is not None
            and playing.command is not None
            and (playing.command.action is CommandAction.EMERGENCY)
        )
        if playing is None or not (stop_all or is_emergency):
            ack("nothing to stop")
            return
        playing.playback.stop()
        self.playing = None
        self._last_end = now
        if playing.command is None:
            self.played.mark(playing.item, "stopped", now)
        cid = playing.command.id if playing.command else None
        self.emit(EventKind.FINISHED, playing.item.id, cid, f"stopped by {command.id}")

    def _volume_command(self, command: Command, now: datetime, ack: Ack) -> None:
        assert command.volume is not None  # the protocol model requires it
        self.base_volume = command.volume
        self.horn.remember(command.volume)  # restored after a restart or reboot
        level = self.horn.change_target(command.volume, now)
        if level is not None and level < command.volume:
            ack(f"volume {level} (capped at {self.horn.cap})")

    def _power_command(self, command: Command, now: datetime, ack: Ack) -> None:
        assert command.on is not None  # the protocol model requires it
        self.amp_forced = command.on
        if not self.horn.amp(command.on, now) and command.on:
            ack("power on held: amplifier cooling down")

    def _start_command_item(self, command: Command, now: datetime, repeats_left: int) -> None:
        item = command.item
        if item is None:
            return
        emergency = command.action is CommandAction.EMERGENCY
        volume = self.config.emergency_volume if emergency else self._volume_for(item)
        # (the cap applies to emergencies too: HornGuard.start_sound in _play)
        end_at = now + timedelta(seconds=item.duration_s)
        source = self.resolve(item)  # the runtime fetched it before submitting the command
        if source is None:
            self.emit(EventKind.FAILED, item.id, command.id, _unavailable(item, 0.0))
            return
        if self._play(item, source, now, end_at, 0.0, command, repeats_left, volume):
            detail = "; ".join(d for d in (command.action.value, source.note) if d)
            self.emit(EventKind.STARTED, item.id, command.id, detail)

    # -- preloading (persistent players) -------------------------------------------------
    def _prepare_next(self, now: datetime, next_start: datetime | None) -> None:
        """Within ``PRELOAD_S`` of the next start, with nothing playing, let the player load
        it paused at its start, so the start itself is only an unpause (sound on time)."""
        item = self._next_item
        if item is None or next_start is None or self.playing is not None:
            return
        if item.kind in (ItemKind.SILENCE, ItemKind.STREAM):
            return
        if (next_start - now).total_seconds() > PRELOAD_S or self.played.state(item):
            return
        source = self.resolve(item)
        if source is None:
            return
        request = PlayRequest(
            item.id,
            item.kind.value,
            source.location,
            0.0,
            item.duration_s,
            self.horn.preview(self._volume_for(item)),
        )
        try:
            self.player.prepare(request)
        except OSError as exc:
            log.warning("preload of %s failed: %s", item.id, exc)

    # -- amplifier and sleeping ----------------------------------------------------------
    def _drive_amplifier(self, now: datetime, next_start: datetime | None) -> None:
        emergency = self.playing is not None and _is_emergency(self.playing.command)
        if self.amp_forced is not None and not (self.playing and self.playing.command):
            self.horn.amp(self.amp_forced, now)
            return
        lead = timedelta(seconds=self.config.amp_lead_s)
        tail = timedelta(seconds=self.config.amp_tail_s)
        want = (
            self.playing is not None
            or (next_start is not None and next_start - now <= lead)
            or (self._last_end is not None and now - self._last_end < tail)
            or (self._media_wait_until is not None and now < self._media_wait_until)
        )
        self.horn.amp(want, now, emergency=emergency)

    def _next_wake(self, now: datetime, next_start: datetime | None) -> float:
        """Seconds from *now on the clock* (not the step's ``now``) to the next deadline."""
        deadlines: list[datetime] = []
        if next_start is not None:
            deadlines.append(next_start)
            deadlines.append(next_start - timedelta(seconds=self.config.amp_lead_s))
            deadlines.append(next_start - timedelta(seconds=PRELOAD_S))
        if self.playing is not None:
            deadlines.append(self.playing.end_at)
            deadlines.append(now + timedelta(seconds=POLL_S))
        if self._last_end is not None:
            deadlines.append(self._last_end + timedelta(seconds=self.config.amp_tail_s))
        if self._media_wait_until is not None:
            if self._media_wait_until > now:
                deadlines.append(self._media_wait_until)
            else:
                self._media_wait_until = None
        upcoming = [d for d in deadlines if d > now]
        fresh = self.clock.now()
        return max(0.0, min([MAX_SLEEP_S, *((d - fresh).total_seconds() for d in upcoming)]))

    # -- the real-time loop --------------------------------------------------------------
    def start(self, stepper: Stepper | None = None) -> None:
        """Run :meth:`step` whenever it is due (own thread unless a shared ``stepper``)."""
        self.player.warm_up()  # a persistent player is up before the first preload
        self._last_step_done = time.monotonic()
        # a thread of its own (never a shared stepper's) may run at real-time priority
        self._promote = self.config.rt_priority > 0 and (
            stepper is None or isinstance(stepper, ThreadStepper)
        )
        self._runner.start(stepper)

    def _timed_step(self) -> float:
        if self._promote:
            self._promote = False
            promote_current_thread(self.config.rt_priority)
        wake = self.step()
        self._last_step_done = time.monotonic()
        return self._until_start(wake)

    def _until_start(self, wake: float) -> float:
        """The sleep before the next step: at most until ``WAKE_EARLY_S`` before the next
        scheduled start; once inside that stretch, wait it out here and step at once, so the
        step that starts the item has nothing else to do and runs on the instant."""
        start = self._next_start
        if start is None:
            return wake
        left = (start - self.clock.now()).total_seconds()
        if left <= 0:
            return wake
        if left <= WAKE_EARLY_S:
            self._wait(left)
            return 0.0
        return min(wake, left - WAKE_EARLY_S)

    def alive(self) -> bool:
        """The clock thread runs and is not stuck: steps come at least every MAX_SLEEP_S, so
        none finishing for ``stall_after_s`` means a step hangs (e.g. in a player call)."""
        fresh = time.monotonic() - self._last_step_done < self.stall_after_s
        return self._runner.alive() and fresh

    def stop(self) -> None:
        self._runner.stop()
        if self.playing is not None:
            self.playing.playback.stop()
            self.playing = None
        self.horn.amp(False, self.clock.now())
        self.player.close()


def _is_emergency(command: Command | None) -> bool:
    return command is not None and command.action is CommandAction.EMERGENCY


def _unavailable(item: PlaylistItem, late_s: float) -> str:
    """The reason reported when an item has nothing verified to play."""
    if item.kind is ItemKind.STREAM:
        return "no stream"
    media = item.media.filename if item.media else "media"
    when = f" (+{late_s:.1f}s)" if late_s > 0 else ""
    return f"{media} not downloaded and verified by its start{when}: skipped, nothing played"


def _languages(item: PlaylistItem) -> str:
    """``languages: vi 0.00+12.31s, tay 13.11+11.80s`` for a multilingual item, else ""."""
    if not item.languages:
        return ""
    parts = (f"{p.language} {p.offset_s:.2f}+{p.duration_s:.2f}s" for p in item.languages)
    return "languages: " + ", ".join(parts)
