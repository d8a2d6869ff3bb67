"""Exponential backoff with full jitter, so a thousand nodes do not reconnect in lockstep."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays grow as ``min_s * 2**attempt`` up to ``max_s``; each is drawn uniformly.

    Full jitter (a delay anywhere in ``[min_s, cap]``) spreads a fleet's retries after a
    broker restart instead of hammering it in waves. ``reset()`` after a success.

    A caller with a deadline passes ``within`` (seconds it can afford to wait): the window
    shrinks to it, but never below ``[min_s, 2·min_s]`` (the second step's), so even a retry
    that is needed now keeps some jitter and a fleet does not retry in the same instant.
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

    @property
    def floor(self) -> float:
        """The narrowest window's top with a deadline: ``2·min_s`` (``max_s`` if lower)."""
        return min(self.max_s, 2.0 * self.min_s)

    def cap(self, within: float | None = None) -> float:
        """The largest delay the next call may return; with ``within`` (a deadline) it is
        ``within`` if the backoff would wait longer, but never below ``floor``."""
        cap = min(self.max_s, self.min_s * 2.0 ** min(self.attempt, 60))
        if within is not None:
            cap = max(self.floor, min(cap, within))
        return cap

    def draw(self, within: float | None = None) -> float:
        """A delay for the current attempt, without counting it (to re-plan a pending one)."""
        delay = float(self._rand(self.min_s, self.cap(within)))
        return max(self.min_s, min(delay, self.max_s))

    def next_delay(self, within: float | None = None) -> float:
        delay = self.draw(within)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
