"""A small per-client token bucket for the unauthenticated public pages.

The replay page is linked from a poster in the cultural house, so it must stay cheap for
the controller whatever a scraper does: each client address gets ``burst`` requests and then
``per_minute`` more each minute; beyond that it gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from protocol.clock import Clock


@dataclass
class _Bucket:
    tokens: float
    at: float


class PublicRateLimiter:
    """Thread-safe; remembers at most ``max_clients`` addresses (oldest forgotten first)."""

    def __init__(
        self, clock: Clock, per_minute: float = 120, burst: int = 60, max_clients: int = 10_000
    ) -> None:
        self._clock = clock
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._max = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds to wait before retrying."""
        now = self._clock.monotonic()
        with self._lock:
            bucket = self._buckets.pop(client, None) or _Bucket(self._burst, now)
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
            bucket.at = now
            self._buckets[client] = bucket
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self._rate
