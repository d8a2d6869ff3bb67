"""Exponential backoff with full jitter, so a thousand nodes do not reconnect in lockstep."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays grow as ``min_s * 2**attempt`` up to ``max_s``; each is drawn uniformly.

    Full jitter (a delay anywhere in ``[min_s, cap]``) spreads a fleet's retries after a
    broker restart instead of hammering it in waves. ``reset()`` after a success.
    """

    def __init__(
        self,
        min_s: float,
        max_s: float,
        rand: Callable[[float, float], float] = random.uniform,
    ) -> None:
        if min_s <= 0 or max_s < min_s:
            raise ValueError(f"need 0 < min_s <= max_s, got {min_s}, {max_s}")
        self.min_s = min_s
        self.max_s = max_s
        self._rand = rand
        self.attempt = 0

    def cap(self) -> float:
        """The largest delay the next call may return."""
        return min(self.max_s, self.min_s * 2.0 ** min(self.attempt, 60))

    def next_delay(self) -> float:
        delay = float(self._rand(self.min_s, self.cap()))
        self.attempt += 1
        return max(self.min_s, min(delay, self.max_s))

    def reset(self) -> None:
        self.attempt = 0
