"""The accepted part of a node's playlist while it is being built: sorted, never overlapping.

Times are integer milliseconds since the epoch, so that "ends exactly where the next
begins" is exact and hashes never depend on float rounding.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right


class Timeline:
    """Non-overlapping half-open intervals ``[start, end)`` with the item id that holds each."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._ids: list[str] = []

    def overlapping(self, start: int, end: int) -> list[tuple[int, int, str]]:
        """Accepted intervals that share time with ``[start, end)``, in order."""
        lo = bisect_right(self._ends, start)
        hi = bisect_left(self._starts, end)
        return [(self._starts[i], self._ends[i], self._ids[i]) for i in range(lo, hi)]

    def free_parts(self, start: int, end: int) -> list[tuple[int, int]]:
        """The pieces of ``[start, end)`` that nothing accepted covers."""
        parts: list[tuple[int, int]] = []
        cursor = start
        for taken_start, taken_end, _ in self.overlapping(start, end):
            if taken_start > cursor:
                parts.append((cursor, taken_start))
            cursor = max(cursor, taken_end)
        if cursor < end:
            parts.append((cursor, end))
        return parts

    def first_fit(self, earliest: int, length: int, latest_end: int) -> int | None:
        """Earliest start >= ``earliest`` where ``length`` fits and ends by ``latest_end``."""
        start = earliest
        while start + length <= latest_end:
            clash = self.overlapping(start, start + length)
            if not clash:
                return start
            start = clash[-1][1]
        return None

    def add(self, start: int, end: int, item_id: str) -> None:
        """Accept ``[start, end)``; the caller has checked that it is free."""
        at = bisect_left(self._starts, start)
        self._starts.insert(at, start)
        self._ends.insert(at, end)
        self._ids.insert(at, item_id)
