"""How long a failing download may wait before its next try: until its file is needed, less
the time the download itself takes.

The backoff alone (up to ``media_retry_max_s``) could put the next try minutes away while an
item that needs the file is due sooner, so the item played late or was missed although the
controller was reachable in time. The worker therefore caps each retry wait at
``seconds until the earliest need - lead(size)``. The lead is deliberately simple: a fixed
allowance for connecting (TLS, a 300 ms-RTT link) plus the file's size at a weak link's rate
(100 kbit/s, the 3G/EDGE edge of coverage the weak-link work measures against); a file of
unknown size gets the fixed part only. A file that is needed now or is overdue gets a window
of 0, which the backoff turns into its shortest jittered window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

CONNECT_LEAD_S = 10.0
"""Allowance for connecting and the first bytes, on top of the transfer time."""
ASSUMED_RATE_BPS = 12_500.0
"""Bytes per second assumed for the transfer (100 kbit/s, a weak village link)."""
RECONNECT_HORIZON_S = 600.0
"""After the controller is reachable again, files needed within this are retried soon."""
RECONNECT_SPREAD_S = 30.0
"""Those retries are spread uniformly over up to this long (less if the need is sooner), so
a fleet that reconnects together does not hit the controller in the same second."""


@dataclass(frozen=True)
class Need:
    """A file is needed from ``start`` (an item's start) until ``end`` (its end)."""

    start: datetime
    end: datetime


def lead_s(size: int) -> float:
    """Seconds to allow for downloading a file of ``size`` bytes (0: unknown)."""
    return CONNECT_LEAD_S + max(size, 0) / ASSUMED_RATE_BPS


def seconds_to_need(needs: Iterable[Need], now: datetime) -> float | None:
    """Seconds until the earliest need that has not ended (0 if it has begun); None if none."""
    upcoming = [n.start for n in needs if n.end > now]
    if not upcoming:
        return None
    return max(0.0, (min(upcoming) - now).total_seconds())


def retry_window(needs: Iterable[Need], size: int, now: datetime) -> float | None:
    """The longest a retry may wait and still leave time to download; None: no deadline."""
    until = seconds_to_need(needs, now)
    if until is None:
        return None
    return max(0.0, until - lead_s(size))
