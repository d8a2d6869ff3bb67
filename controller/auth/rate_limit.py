"""Login throttling: at most N failures per (username, IP) in a sliding window.

Kept in memory: one controller process serves the panel by default. Behind several replicas
each one throttles on its own, which still bounds guessing to N x replicas per window.
"""

from __future__ import annotations

import threading
from collections import deque

from protocol.clock import Clock


class LoginRateLimiter:
    def __init__(self, clock: Clock, max_failures: int = 5, window_s: float = 300.0) -> None:
        self._clock = clock
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        now = self._clock.monotonic()
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def retry_after_s(self, username: str, ip: str) -> float:
        """0 when a login attempt is allowed now, else seconds until the oldest failure ages out."""
        key = (username.strip().lower(), ip)
        with self._lock:
            times = self._recent(key)
            if len(times) < self.max_failures:
                return 0.0
            return max(0.0, times[0] + self.window_s - self._clock.monotonic())

    def failed(self, username: str, ip: str) -> None:
        key = (username.strip().lower(), ip)
        with self._lock:
            self._recent(key).append(self._clock.monotonic())

    def succeeded(self, username: str, ip: str) -> None:
        with self._lock:
            self._failures.pop((username.strip().lower(), ip), None)
