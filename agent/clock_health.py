"""How far the kernel thinks the clock is from NTP time (read-only ``adjtimex``).

Playout is only as good as the clock; the heartbeat carries this offset so operators see a
node whose NTP is broken before it plays at the wrong minute.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

STA_NANO = 0x2000
TIME_ERROR = 5  # the kernel says: clock not synchronised


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_padding", ctypes.c_int * 11),
    ]


@functools.cache
def _libc() -> ctypes.CDLL:
    """libc, loaded once: ``find_library`` runs ``ldconfig -p`` in a subprocess each call.

    A failure (OSError) is not cached, so the next heartbeat tries again.
    """
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def clock_offset_ms() -> float | None:
    """The NTP offset in ms, or None when unknown or the clock is not synchronised."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = _libc()
        timex = _Timex()
        state = int(libc.adjtimex(ctypes.byref(timex)))  # modes = 0: read only
    except (OSError, AttributeError):
        return None
    if state < 0 or state == TIME_ERROR:
        return None
    divisor = 1e6 if timex.status & STA_NANO else 1e3
    offset_ms: float = round(int(timex.offset) / divisor, 3)
    return offset_ms


# -- sync state from the time daemon (chrony or systemd-timesyncd) ----------------------

SYNC_CHECK_S = 300.0  # ask the daemon at most this often: a subprocess per heartbeat is waste


@dataclass(frozen=True)
class SyncState:
    """What the time daemon says: ``source`` is chrony, timesyncd or unknown."""

    source: str = "unknown"
    synced: bool | None = None
    offset_ms: float | None = None


def parse_chrony_tracking(csv_line: str) -> SyncState | None:
    """``chronyc -c tracking``: field 5 is the system time's offset from NTP time in seconds
    (sign as chrony prints it; the panel only uses its size), the last field the leap
    status (``Not synchronised``)."""
    fields = csv_line.strip().split(",")
    if len(fields) < 14:
        return None
    try:
        offset_ms = round(float(fields[4]) * 1000, 3)
    except ValueError:
        return None
    return SyncState("chrony", fields[-1] != "Not synchronised", offset_ms)


def parse_timedatectl(text: str) -> SyncState | None:
    """``timedatectl show``: ``NTPSynchronized=yes|no`` (no offset: adjtimex gives it)."""
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "NTPSynchronized" and value in ("yes", "no"):
            return SyncState("timesyncd", value == "yes")
    return None


def _run(argv: list[str]) -> str | None:
    binary = shutil.which(argv[0])
    if binary is None:
        return None
    try:
        result = subprocess.run(
            [binary, *argv[1:]], capture_output=True, text=True, timeout=3, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def read_sync_state() -> SyncState:
    """chrony if it answers, else timedatectl (timesyncd), else ``unknown``."""
    out = _run(["chronyc", "-c", "tracking"])
    state = parse_chrony_tracking(out) if out else None
    if state is None:
        out = _run(["timedatectl", "show"])
        state = parse_timedatectl(out) if out else None
    return state or SyncState()


class SyncMonitor:
    """``read_sync_state`` at most every ``SYNC_CHECK_S`` (monotonic), else the last answer.

    One machine has one clock: ``SYNC`` is the process's one monitor, so every heartbeat
    reuses the last answer instead of spawning ``chronyc`` on a Pi each time.
    """

    def __init__(self, every_s: float = SYNC_CHECK_S) -> None:
        self.every_s = every_s
        self._at: float | None = None
        self._state = SyncState()
        self._lock = threading.Lock()

    def state(self) -> SyncState:
        with self._lock:
            now = time.monotonic()
            if self._at is None or now - self._at >= self.every_s:
                self._state = read_sync_state()
                self._at = now
            return self._state


SYNC = SyncMonitor()
