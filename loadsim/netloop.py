"""One network thread for many MQTT sessions (a simulated fleet), driven by epoll.

A real agent gives its one MQTT session a thread of its own (the default
:class:`agent.mqtt_session.OwnThread` driver). A simulated fleet of hundreds of agents
cannot: paho's own loop uses ``select()``, which stops at descriptor 1024, and a thread per
session spends the CPU on switching threads. Here every
session's socket sits in one :mod:`selectors` selector (epoll on Linux, no descriptor limit)
and paho is driven through its external-loop API (``loop_read`` / ``loop_write`` /
``loop_misc`` plus the socket callbacks), with the same reconnect-with-backoff behaviour as a
session's own thread. :class:`NetworkLoop` is a :class:`agent.mqtt_session.SessionDriver`.

Quiet window (:meth:`NetworkLoop.wait_quiet`): the loop notes when a session last received
a message (it wraps each session's ``on_message`` when attaching it), so the harness's
shared step thread can wait until a fan-out has been read from every socket before the
simulated agents act on it — a need of many agents sharing two cores, not of a real agent.

Threads: everything that touches a socket runs on the loop thread; other threads (the
reporter publishing events) only queue packets, and paho's write-interest callback reaches
the loop through :meth:`NetworkLoop._want_write` and a wake-up socket pair.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from agent.mqtt_session import MqttSession

log = logging.getLogger(__name__)

QUIET_WINDOW_S = 0.03  # no message for this long: a fan-out has been read (wait_quiet)
MISC_INTERVAL_S = 1.0  # keepalive pings and dead-link checks (paho's loop does this per call)
CONNECTS_PER_TURN = 50  # a mass reconnect must not starve reading the links already up


class _Link:
    """One session on the loop; every field is touched by the loop thread only."""

    def __init__(self, session: MqttSession) -> None:
        self.session = session
        self.client = session.client
        self.sock: Any = None
        self.linked = False
        self.connect_at = 0.0
        self.closed = False


class NetworkLoop:
    def __init__(self, name: str = "mqtt-fleet") -> None:
        self.name = name
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._links: dict[int, _Link] = {}
        self._unlinked: dict[int, _Link] = {}  # links waiting to (re)connect: few, usually none
        self._calls: deque[Callable[[], None]] = deque()
        self._write_wanted: deque[_Link] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # set while waiting for the network with nothing left to read
        self.idle = threading.Event()
        self._last_message = 0.0  # monotonic time a session last received a message

    # -- any thread ----------------------------------------------------------------------
    def wait_quiet(self, until: float) -> None:
        """Block until no message has arrived for ``QUIET_WINDOW_S``, or until ``until``.

        Messages of one fan-out reach a process's sockets over tens of milliseconds, with
        short gaps; a moment of idleness alone would let work start in such a gap. Only
        messages count: the broker's acks of the agents' own reports are not a fan-out.
        """
        while (now := time.monotonic()) < until:
            if not self.idle.is_set():
                self.idle.wait(until - now)
                continue
            quiet_for = now - self._last_message
            if quiet_for >= QUIET_WINDOW_S:
                return
            time.sleep(min(QUIET_WINDOW_S - quiet_for, until - now))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._poke()
        if self._thread is not None:
            self._thread.join(timeout)

    def attach(self, session: MqttSession) -> None:
        """Start connecting ``session`` (on the loop thread, soon)."""
        link = _Link(session)
        client = session.client
        client.on_socket_open = lambda _c, _u, sock: self._opened(link, sock)
        client.on_socket_close = lambda _c, _u, sock: self._closed(link, sock)
        client.on_socket_register_write = lambda _c, _u, _s: self._want_write(link)
        client.on_socket_unregister_write = lambda _c, _u, _s: self._watch(link, write=False)
        deliver = client.on_message

        def on_message(c: mqtt.Client, u: Any, message: mqtt.MQTTMessage) -> None:
            self._last_message = time.monotonic()  # the network is not quiet yet
            if deliver is not None:
                deliver(c, u, message)

        client.on_message = on_message

        def add() -> None:
            self._links[id(session)] = link
            self._unlinked[id(session)] = link

        self._call(add)

    def detach(self, session: MqttSession, timeout: float = 5.0) -> None:
        """Disconnect ``session`` cleanly and forget it; waits until the loop did so."""
        done = threading.Event()

        def drop() -> None:
            link = self._links.pop(id(session), None)
            self._unlinked.pop(id(session), None)
            if link is not None:
                link.closed = True
                session.mark_stopping()
                with contextlib.suppress(Exception):
                    link.client.disconnect()
                    link.client.loop_write()
                self._forget_socket(link)
            done.set()

        if threading.current_thread() is self._thread:
            drop()
        else:
            self._call(drop)
            done.wait(timeout)

    def _call(self, fn: Callable[[], None]) -> None:
        self._calls.append(fn)
        self._poke()

    def _poke(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"\0")

    def _want_write(self, link: _Link) -> None:
        if threading.current_thread() is self._thread:
            self._watch(link, write=True)
        else:
            self._write_wanted.append(link)
            self._poke()

    # -- the loop thread -----------------------------------------------------------------
    def _opened(self, link: _Link, sock: Any) -> None:
        link.sock = sock
        self._selector.register(sock, selectors.EVENT_READ, link)

    def _closed(self, link: _Link, sock: Any) -> None:
        if link.sock is sock:
            self._forget_socket(link)

    def _forget_socket(self, link: _Link) -> None:
        if link.sock is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(link.sock)
            link.sock = None

    def _watch(self, link: _Link, write: bool) -> None:
        if link.sock is None or link.closed:
            return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if write else 0)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.modify(link.sock, events, link)

    def _lost(self, link: _Link, why: str) -> None:
        link.linked = False
        if not link.closed:
            self._unlinked[id(link.session)] = link
        link.session.connected.clear()
        self._forget_socket(link)
        delay = link.session.backoff.next_delay()
        link.connect_at = time.monotonic() + delay
        if not link.closed:
            log.info("%s: %s; retrying in %.1fs", link.session.node_id, why, delay)

    def _connect_due(self, now: float) -> float:
        """Connect links whose time has come (a few per turn); return seconds to the next."""
        started = 0
        next_at = float("inf")
        for key, link in list(self._unlinked.items()):
            if link.connect_at > now or started >= CONNECTS_PER_TURN:
                next_at = min(next_at, max(link.connect_at, now))
                continue
            started += 1
            try:
                link.session.connect_once()
                link.linked = True
                del self._unlinked[key]
            except (OSError, ValueError) as exc:
                self._lost(link, f"connect failed: {exc}")
                next_at = min(next_at, link.connect_at)
        return next_at - now

    def _drain_wakeups(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            while self._wake_r.recv(4096):
                pass
        while self._calls:
            self._calls.popleft()()
        while self._write_wanted:
            self._watch(self._write_wanted.popleft(), write=True)

    def _service(self, link: _Link, mask: int) -> None:
        if mask & selectors.EVENT_READ:
            rc = link.client.loop_read()
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._lost(link, f"link lost ({mqtt.error_string(rc)})")
                return
        if mask & selectors.EVENT_WRITE and link.sock is not None:
            rc = link.client.loop_write()
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._lost(link, f"link lost ({mqtt.error_string(rc)})")

    def _misc(self) -> None:
        for link in list(self._links.values()):
            if link.linked and link.client.loop_misc() != mqtt.MQTT_ERR_SUCCESS:
                self._lost(link, "keepalive lost")

    def _run(self) -> None:
        next_misc = time.monotonic() + MISC_INTERVAL_S
        while not self._stop.is_set():
            now = time.monotonic()
            timeout = min(self._connect_due(now), next_misc - now, MISC_INTERVAL_S)
            ready = self._selector.select(0)
            if not ready:
                # only a turn that finds nothing to read counts as idle (see wait_quiet)
                self.idle.set()
                ready = self._selector.select(max(0.0, timeout))
                if ready:
                    self.idle.clear()
            for key, mask in ready:
                if key.data is None:
                    self._drain_wakeups()  # our own wake-ups are not traffic
                else:
                    self._service(key.data, mask)
            if time.monotonic() >= next_misc:
                self._misc()
                next_misc = time.monotonic() + MISC_INTERVAL_S
        for link in list(self._links.values()):
            link.session.mark_stopping()
            with contextlib.suppress(Exception):
                link.client.disconnect()
                link.client.loop_write()
            self._forget_socket(link)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
