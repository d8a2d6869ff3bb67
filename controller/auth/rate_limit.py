"""Login throttling per (username, client address), with a growing delay and bounded memory.

A few failures are free (typos); after ``max_failures`` each further failure refuses that
pair for a delay that doubles (``first_delay_s``, 2x, 4x ... up to ``max_delay_s``). Only
the pair is slowed: the same account from another address, e.g. the admin at the office
while someone guesses from outside, logs in as usual, so guessing can never lock an account
for everyone. A pair is forgotten after a quiet ``window_s`` past its refusal, on success,
or when the table is full: it keeps at most ``max_entries`` pairs, least recently touched
evicted first, so a flood of addresses cannot grow memory.

Kept in memory: each controller replica throttles on its own, which still bounds guessing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from protocol.clock import Clock

FIRST_DELAY_S = 30.0


@dataclass
class _Pair:
    failures: int = 0
    blocked_until: float = 0.0
    last_failure: float = 0.0


class LoginRateLimiter:
    def __init__(
        self,
        clock: Clock,
        max_failures: int = 5,
        window_s: float = 300.0,
        *,
        first_delay_s: float = FIRST_DELAY_S,
        max_delay_s: float = 900.0,
        max_entries: int = 10_000,
    ) -> None:
        self._clock = clock
        self.max_failures = max_failures
        self.window_s = window_s
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.max_entries = max_entries
        self._pairs: OrderedDict[tuple[str, str], _Pair] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pairs)

    @staticmethod
    def _key(username: str, ip: str) -> tuple[str, str]:
        return (username.strip().lower()[:100], ip[:64])

    def _live(self, key: tuple[str, str], now: float) -> _Pair | None:
        pair = self._pairs.get(key)
        if pair is not None and now >= max(pair.blocked_until, pair.last_failure) + self.window_s:
            del self._pairs[key]  # quiet for a whole window: forgiven
            return None
        return pair

    def retry_after_s(self, username: str, ip: str) -> float:
        """0 when this pair may try now, else the seconds until it may."""
        now = self._clock.monotonic()
        with self._lock:
            pair = self._live(self._key(username, ip), now)
            return 0.0 if pair is None else max(0.0, pair.blocked_until - now)

    def failed(self, username: str, ip: str) -> None:
        key = self._key(username, ip)
        now = self._clock.monotonic()
        with self._lock:
            pair = self._live(key, now) or _Pair()
            pair.failures += 1
            pair.last_failure = now
            extra = pair.failures - self.max_failures
            if extra >= 0:
                delay = self.first_delay_s * 2 ** min(extra, 32)
                pair.blocked_until = now + min(self.max_delay_s, delay)
            self._pairs[key] = pair
            self._pairs.move_to_end(key)
            while len(self._pairs) > self.max_entries:
                self._pairs.popitem(last=False)

    def succeeded(self, username: str, ip: str) -> None:
        with self._lock:
            self._pairs.pop(self._key(username, ip), None)
