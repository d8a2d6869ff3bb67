"""How far the kernel thinks the clock is from NTP time (read-only ``adjtimex``).

Playout is only as good as the clock; the heartbeat carries this offset so operators see a
node whose NTP is broken before it plays at the wrong minute.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

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
