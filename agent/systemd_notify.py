"""sd_notify over the ``NOTIFY_SOCKET`` datagram (stdlib only): readiness and watchdog pings."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable


def notify(message: str) -> bool:
    """Send ``message`` (e.g. ``READY=1``) to systemd; False when not run by systemd or the
    message could not be sent at once."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            # never wait: with the receiver's queue full (systemd busy, or a test that reads
            # late) a blocked send would hold the watchdog thread and then deliver a stale
            # ping; a ping dropped now is replaced by the next one half a period later
            sock.send(message.encode(), socket.MSG_DONTWAIT)
        return True
    except OSError:
        return False


def watchdog_interval_s() -> float | None:
    """Half the watchdog period systemd asked for, or None when there is no watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 2e6
    except ValueError:
        return None


def watchdog_loop(stop: threading.Event, healthy: Callable[[], bool]) -> None:
    """Until ``stop``: ping ``WATCHDOG=1`` every half watchdog period while ``healthy()``.

    A stalled playout clock stops the pings, so systemd restarts the agent after
    ``WatchdogSec``. Without a watchdog (not under systemd) this only waits for ``stop``.
    """
    ping = watchdog_interval_s()
    while not stop.wait(ping or 60.0):
        if ping and healthy():
            notify("WATCHDOG=1")
