"""A persistent ``mpv`` driven over its JSON IPC socket: sound starts within milliseconds.

Spawning a player per item costs its whole start-up (hundreds of ms on a Pi) between the
scheduled instant and the first sample, and two speakers in earshot that start tens of ms
apart are heard as an echo. Here one ``mpv --idle`` runs for the agent's lifetime; ahead of
an item the playout clock calls :meth:`PersistentMpvPlayer.prepare`, which loads the file
paused at its start offset (decoder primed, audio output opened), and :meth:`play` only
unpauses it: one small write on a unix socket.

If mpv is gone or the IPC fails, the item is played by a freshly spawned ``mpv`` instead
(the old, slower path) and the persistent process is restarted for the next item.
One process only: a real card opened by ``hw:`` takes one client, so two mpv instances
(one playing, one preloaded) would not work everywhere. An item that follows another
without a gap is therefore loaded at its instant (still no process start-up).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.backends.player import Playback, Player, PlayRequest, require_local_file
from agent.backends.process_player import BackendUnavailable, MpvPlayer
from agent.realtime import promote_process

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
REPLY_TIMEOUT_S = 2.0
LOAD_TIMEOUT_S = 5.0


class IpcError(OSError):
    """mpv did not answer, answered with an error, or is gone."""


@dataclass
class _Load:
    """One file handed to mpv: its request, which mpv process and playlist entry play it
    (mpv's events name the entry, so a late event of the previous file is never taken for
    this one's), and whether we stopped it."""

    request: PlayRequest
    proc: MpvProcess
    entry_id: int | None = None
    stopped: bool = False


class MpvProcess:
    """One ``mpv --idle`` process and its IPC connection (reader thread keeps events)."""

    def __init__(self, binary: str, extra_args: list[str], socket_dir: Path) -> None:
        self._ids = itertools.count(1)
        self._replies: dict[int, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self.path = socket_dir / f"mpv-{os.getpid()}-{id(self)}.sock"
        self.on_event: Any = None
        argv = [
            binary,
            "--idle=yes",
            "--no-video",
            "--no-terminal",
            "--really-quiet",
            "--keep-open=no",
            "--pause=yes",
            f"--input-ipc-server={self.path}",
            *extra_args,
        ]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.sock = self._connect()
        self._reader = threading.Thread(target=self._read, name="mpv-ipc", daemon=True)
        self._reader.start()

    def _connect(self) -> socket.socket:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise IpcError(f"mpv exited at start with status {self.proc.returncode}")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(self.path))
                return sock
            except OSError:
                sock.close()
                time.sleep(0.02)
        self.kill()
        raise IpcError("mpv IPC socket did not appear")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                self._dispatch(line)
        with self._lock:  # wake every waiter: no answer will come
            for event, _box in self._replies.values():
                event.set()

    def _dispatch(self, line: bytes) -> None:
        try:
            msg = json.loads(line)
        except ValueError:
            return
        if not isinstance(msg, dict):
            return
        if "request_id" in msg and "event" not in msg:
            with self._lock:
                waiter = self._replies.get(int(msg["request_id"]))
            if waiter is not None:
                waiter[1].append(msg)
                waiter[0].set()
        elif "event" in msg and self.on_event is not None:
            self.on_event(msg)

    def command(self, *args: Any, timeout: float = REPLY_TIMEOUT_S) -> Any:
        """Send one command and wait for its reply; raises ``IpcError`` on any failure."""
        request_id = next(self._ids)
        event: threading.Event = threading.Event()
        box: list[dict[str, Any]] = []
        with self._lock:
            self._replies[request_id] = (event, box)
        try:
            line = json.dumps({"command": list(args), "request_id": request_id}) + "\n"
            try:
                with self._send_lock:
                    self.sock.sendall(line.encode())
            except OSError as exc:
                raise IpcError(f"mpv IPC write failed: {exc}") from None
            if not event.wait(timeout) or not box:
                raise IpcError(f"mpv did not answer {args[0]!r}")
        finally:
            with self._lock:
                self._replies.pop(request_id, None)
        reply = box[0]
        if reply.get("error") != "success":
            raise IpcError(f"mpv {args[0]!r}: {reply.get('error')}")
        return reply.get("data")

    def kill(self) -> None:
        sock: socket.socket | None = getattr(self, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(OSError):
            self.path.unlink()


def _same_load(a: PlayRequest, b: PlayRequest) -> bool:
    """The preloaded request is the one to play (its duration is recomputed at the start)."""
    return (
        a.item_id == b.item_id
        and a.source == b.source
        and a.volume == b.volume
        and abs(a.offset_s - b.offset_s) < 0.05
    )


class IpcPlayback(Playback):
    def __init__(self, player: PersistentMpvPlayer, load: _Load) -> None:
        self._player = player
        self._load = load

    def poll(self) -> int | None:
        return self._player.ended(self._load)

    def stop(self) -> None:
        self._player.stop_load(self._load)


class PersistentMpvPlayer(Player):
    """``mpv`` kept running in idle mode; items are preloaded paused and unpaused on time.

    ``extra_args`` go to mpv (e.g. ``--ao=alsa``, ``--audio-device=alsa/default``).
    ``stats`` counts how items were started (``preloaded``, ``loaded``, ``spawned``).
    ``rt_priority`` > 0: every mpv started runs at that ``SCHED_FIFO`` priority
    (:mod:`agent.realtime`), so its threads react to the unpause at once on a busy Pi.
    """

    name = "mpv"

    def __init__(
        self,
        extra_args: list[str] | None = None,
        socket_dir: Path | None = None,
        rt_priority: int = 0,
    ):
        binary = shutil.which("mpv")
        if binary is None:
            raise BackendUnavailable("player 'mpv' is not installed")
        self.binary = binary
        self.extra_args = list(extra_args or [])
        self.rt_priority = rt_priority
        self._own_dir = socket_dir is None
        self.socket_dir = socket_dir or Path(tempfile.mkdtemp(prefix="loa-mpv-"))
        self._proc: MpvProcess | None = None
        self._current: _Load | None = None
        self._lock = threading.RLock()
        self.fallback = MpvPlayer()
        self.stats = {"preloaded": 0, "loaded": 0, "spawned": 0}
        self.volume_level: int | None = None
        self._closed = False
        # what mpv's events said, by playlist entry id (guarded by _events)
        self._events = threading.Condition()
        self._started: int | None = None
        self._ready_ids: set[int] = set()
        self._ended_ids: dict[int, int] = {}

    # -- process management --------------------------------------------------------------
    def _process(self) -> MpvProcess:
        if self._closed:
            raise IpcError("player closed")
        proc = self._proc
        if proc is not None and proc.alive():
            return proc
        if proc is not None:
            log.warning("persistent mpv died (status %s): restarting", proc.proc.returncode)
            proc.kill()
        self._proc = None
        with self._events:  # entry ids start again at 1 in a new process
            self._started = None
            self._ready_ids.clear()
            self._ended_ids.clear()
        proc = MpvProcess(self.binary, self.extra_args, self.socket_dir)
        proc.on_event = self._on_event
        if self.rt_priority > 0:  # its threads are up once the IPC answers
            promote_process(proc.proc.pid, self.rt_priority)
        self._proc = proc
        return proc

    def process_alive(self) -> bool:
        proc = self._proc
        return proc is not None and proc.alive()

    def start(self) -> None:
        """Start mpv now (else it starts at the first ``prepare``/``play``)."""
        with self._lock:
            self._process()

    def warm_up(self) -> None:
        """Start mpv in the background: its start-up must not delay the playout clock."""

        def start() -> None:
            try:
                self.start()
            except (IpcError, OSError) as exc:
                log.warning("persistent mpv did not start: %s", exc)

        threading.Thread(target=start, name="mpv-start", daemon=True).start()

    def _on_event(self, msg: dict[str, Any]) -> None:
        """Reader thread: note which entry started, is ready (paused at its offset), ended."""
        name = msg.get("event")
        entry = msg.get("playlist_entry_id")
        with self._events:
            if name == "start-file" and isinstance(entry, int):
                self._started = entry
            elif name == "playback-restart" and self._started is not None:
                self._ready_ids.add(self._started)  # (this event names no entry)
            elif name == "end-file" and isinstance(entry, int):
                reason = msg.get("reason")
                if reason in ("eof", "error"):
                    self._ended_ids[entry] = 0 if reason == "eof" else 1
                # "stop"/"redirect"/"quit": stopped by us (or replaced): nothing to report
            self._events.notify_all()

    def ended(self, load: _Load) -> int | None:
        """None while ``load`` plays; 0 finished or stopped; 1 failed or mpv died."""
        if load.stopped:
            return 0
        if load.proc is not self._proc or not load.proc.alive():
            return 1
        with self._events:
            return self._ended_ids.get(load.entry_id) if load.entry_id is not None else None

    def _ready(self, load: _Load) -> bool:
        with self._events:
            return load.entry_id in self._ready_ids

    # -- Player --------------------------------------------------------------------------
    def prepare(self, request: PlayRequest) -> None:
        """Load ``request`` paused at its offset so :meth:`play` only has to unpause."""
        require_local_file(request)
        with self._lock:
            current = self._current
            live = current is not None and self.ended(current) is None
            if live and current is not None and _same_load(current.request, request):
                return
            playing = live and current is not None and self._ready(current)
            if playing and not self._is_paused():
                return  # something is playing: never cut it for a preload
            try:
                self._load(request, paused=True)
            except IpcError as exc:
                log.warning("mpv preload of %s failed: %s", request.item_id, exc)
                self._reset()

    def _is_paused(self) -> bool:
        try:
            return bool(self._process().command("get_property", "pause"))
        except IpcError:
            return True

    def _load(self, request: PlayRequest, paused: bool) -> _Load:
        proc = self._process()
        load = _Load(request, proc)
        proc.command("set_property", "pause", paused)
        proc.command("set_property", "start", f"{request.offset_s:.3f}")
        volume = request.volume if request.volume is not None else self.volume_level
        volume = 100 if volume is None else volume
        proc.command("set_property", "volume", volume)
        self._current = load
        reply = proc.command("loadfile", request.source, "replace")
        entry = reply.get("playlist_entry_id") if isinstance(reply, dict) else None
        if not isinstance(entry, int):
            raise IpcError("mpv gave no playlist entry id (mpv >= 0.33 needed)")
        load.entry_id = entry
        with self._events:
            for old in [e for e in self._ready_ids if e < entry]:
                self._ready_ids.discard(old)
            for old in [e for e in self._ended_ids if e < entry]:
                del self._ended_ids[old]
            if paused:
                self._events.wait_for(
                    lambda: (
                        entry in self._ready_ids or entry in self._ended_ids or not proc.alive()
                    ),
                    LOAD_TIMEOUT_S,
                )
        if paused and not self._ready(load):
            raise IpcError(f"mpv did not load {request.source}")
        if self.ended(load) is not None:
            raise IpcError(f"mpv could not play {request.source}")
        return load

    def play(self, request: PlayRequest) -> Playback:
        require_local_file(request)
        with self._lock:
            if not self.process_alive():
                # mpv died (or is still starting): starting one now would hold the clock
                # thread for its whole start-up; a one-shot player is no slower, and the
                # persistent one comes back in the background for the next item
                self._reset()
                self.stats["spawned"] += 1
                self.warm_up()
                return self.fallback.play(request)
            try:
                load = self._current
                if (
                    load is not None
                    and _same_load(load.request, request)
                    and self.ended(load) is None
                    and self._ready(load)
                ):
                    self._process().command("set_property", "pause", False)
                    self.stats["preloaded"] += 1
                    return IpcPlayback(self, load)
                load = self._load(request, paused=False)
                self.stats["loaded"] += 1
                return IpcPlayback(self, load)
            except IpcError as exc:
                log.warning("persistent mpv failed (%s): spawning a player for %s", exc, request)
                self._reset()
                self.stats["spawned"] += 1
                return self.fallback.play(request)

    def stop_load(self, load: _Load) -> None:
        with self._lock:
            load.stopped = True
            if self._current is not load:
                return
            self._current = None
            try:
                if self.process_alive():
                    self._process().command("stop")
            except IpcError:
                self._reset()

    def set_volume(self, percent: int) -> bool:
        """Change the level of what plays now (mpv's software gain); False if mpv is gone."""
        with self._lock:
            self.volume_level = percent
            try:
                if self.process_alive():
                    self._process().command("set_property", "volume", percent)
                    return True
            except IpcError:
                self._reset()
            return False

    def _reset(self) -> None:
        proc, self._proc, self._current = self._proc, None, None
        if proc is not None:
            proc.kill()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._reset()
            if self._own_dir:
                shutil.rmtree(self.socket_dir, ignore_errors=True)
