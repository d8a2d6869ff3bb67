"""Rule expansion done once per compile pass and shared by every node.

Expanding 200 rules costs the same whether one node or two thousand receive them, so the
compiler expands here first and then only filters and arranges per group of nodes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from schedules.entries import ProgrammeSlot, ScheduleEntry
from schedules.errors import ScheduleError
from schedules.local_time import to_local_naive
from schedules.recurrence import occurrences, rule_dates

T = TypeVar("T", ScheduleEntry, ProgrammeSlot)


class ExpandedCalendar:
    """Occurrences of every entry and slot that can touch ``[window_start, window_end)``.

    ``fixed[entry_id]`` lists UTC starts of timed entries (validity window applied); an
    occurrence that began before the window is kept when it may still be playing at its
    start. ``slot_runs[slot_id]`` lists UTC starts of each slot; ``slot_days[entry_id]`` is
    the set of local dates on which a slotted entry runs (``None``: every day of its slot).
    """

    def __init__(
        self,
        entries: Iterable[ScheduleEntry],
        slots: Iterable[ProgrammeSlot],
        window_start: datetime,
        window_end: datetime,
    ) -> None:
        if window_start.tzinfo is None or window_end.tzinfo is None:
            raise ScheduleError("window bounds must carry a UTC offset")
        if window_end <= window_start:
            raise ScheduleError("window_end must be after window_start")
        self.window_start = window_start
        self.window_end = window_end
        self.entries = _unique_by_id("entry", entries)
        self.slots = _unique_by_id("slot", slots)
        self.slot_runs = {
            slot.id: occurrences(
                slot.rule, window_start - timedelta(seconds=slot.duration_s), window_end
            )
            for slot in self.slots.values()
        }
        self.fixed: dict[str, list[datetime]] = {}
        self.slot_days: dict[str, frozenset[dt.date] | None] = {}
        for entry in self.entries.values():
            if entry.slot is None:
                self.fixed[entry.id] = self._fixed_starts(entry)
            elif entry.slot not in self.slots:
                raise ScheduleError(f"entry {entry.id!r} names unknown slot {entry.slot!r}")
            else:
                self.slot_days[entry.id] = self._slot_days(entry)

    def _fixed_starts(self, entry: ScheduleEntry) -> list[datetime]:
        assert entry.rule is not None  # guaranteed by ScheduleEntry validation
        reach_back = (entry.unit_duration_s or 0.0) * entry.repeat
        starts = occurrences(
            entry.rule, self.window_start - timedelta(seconds=reach_back), self.window_end
        )
        return [start for start in starts if entry.valid_at(start)]

    def _slot_days(self, entry: ScheduleEntry) -> frozenset[dt.date] | None:
        if entry.rule is None:
            return None
        runs = self.slot_runs[entry.slot or ""]
        if not runs:
            return frozenset()
        first = to_local_naive(runs[0]).date()
        last = to_local_naive(runs[-1]).date()
        return rule_dates(entry.rule, first, last)


def _unique_by_id(what: str, items: Iterable[T]) -> dict[str, T]:
    found: dict[str, T] = {}
    for item in items:
        if item.id in found:
            raise ScheduleError(f"{what} id {item.id!r} is used twice")
        found[item.id] = item
    return found
