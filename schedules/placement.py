"""Turning one node group's entries into candidate pieces: fixed starts and packed slots.

A piece is one play of one entry (``repeat`` gives several pieces back to back). Pieces may
still overlap here; :mod:`schedules.resolver` decides who keeps the time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from schedules.entries import ProgrammeSlot, ScheduleEntry
from schedules.expansion import ExpandedCalendar
from schedules.local_time import to_local_naive
from schedules.millis import from_ms, seconds_to_ms, to_ms
from schedules.results import Bump, BumpAction, BumpReason


@dataclass(frozen=True, slots=True)
class Piece:
    """One planned play: ``[start, end)`` in epoch milliseconds."""

    entry: ScheduleEntry
    item_id: str
    occurrence_ms: int
    repeat_index: int
    start: int
    end: int
    slot_end: int | None = None

    @property
    def rank(self) -> tuple[int, int, str, int, int]:
        """Precedence: higher priority, then earlier created, then id and time (total order)."""
        entry = self.entry
        return (-entry.priority, entry.created_seq, entry.id, self.occurrence_ms, self.repeat_index)


def occurrence_id(entry_id: str, occurrence: datetime, repeat_index: int) -> str:
    """Stable playlist item id: the same occurrence keeps it across compiles and moves."""
    return f"{entry_id}@{occurrence:%Y%m%dT%H%M%SZ}#{repeat_index}"


def packing_order(entry: ScheduleEntry) -> tuple[int, int, str]:
    """Order inside a slot: higher priority first, then creation order."""
    return (-entry.priority, entry.created_seq, entry.id)


def place(
    calendar: ExpandedCalendar, entries: Iterable[ScheduleEntry]
) -> tuple[list[Piece], list[Bump]]:
    """Candidate pieces for a group of nodes that share exactly these ``entries``."""
    pieces: list[Piece] = []
    bumps: list[Bump] = []
    slotted: dict[str, list[ScheduleEntry]] = {}
    for entry in entries:
        if entry.slot is not None:
            slotted.setdefault(entry.slot, []).append(entry)
            continue
        for start in calendar.fixed[entry.id]:
            _place_fixed(entry, start, pieces, bumps)
    for slot_id in sorted(slotted):
        members = sorted(slotted[slot_id], key=packing_order)
        slot = calendar.slots[slot_id]
        for run in calendar.slot_runs[slot_id]:
            day = to_local_naive(run).date()
            todays = [
                entry
                for entry in members
                if entry.valid_at(run)
                and ((days := calendar.slot_days[entry.id]) is None or day in days)
            ]
            _pack(slot, run, todays, pieces, bumps)
    return pieces, bumps


def _place_fixed(
    entry: ScheduleEntry, start: datetime, pieces: list[Piece], bumps: list[Bump]
) -> None:
    occurrence = to_ms(start)
    unit = entry.unit_duration_s
    for index in range(entry.repeat):
        item_id = occurrence_id(entry.id, start, index)
        if unit is None:
            bumps.append(_not_ready(entry, item_id, start))
            continue
        length = seconds_to_ms(unit)
        begin = occurrence + index * length
        pieces.append(Piece(entry, item_id, occurrence, index, begin, begin + length))


def _pack(
    slot: ProgrammeSlot,
    run: datetime,
    members: list[ScheduleEntry],
    pieces: list[Piece],
    bumps: list[Bump],
) -> None:
    """Fill one slot run in order; whatever does not fit any more is bumped ("slot full")."""
    run_ms = to_ms(run)
    slot_end = run_ms + seconds_to_ms(slot.duration_s)
    gap = round(slot.gap_s * 1000)
    cursor = run_ms
    for entry in members:
        unit = entry.unit_duration_s
        for index in range(entry.repeat):
            item_id = occurrence_id(entry.id, run, index)
            if unit is None:
                bumps.append(_not_ready(entry, item_id, run))
                continue
            length = seconds_to_ms(unit)
            if cursor + length > slot_end:
                bumps.append(
                    Bump(
                        item_id,
                        entry.id,
                        from_ms(cursor),
                        from_ms(cursor + length),
                        BumpAction.BUMPED,
                        BumpReason.SLOT_FULL,
                    )
                )
                continue
            pieces.append(Piece(entry, item_id, run_ms, index, cursor, cursor + length, slot_end))
            cursor += length + gap


def _not_ready(entry: ScheduleEntry, item_id: str, start: datetime) -> Bump:
    return Bump(item_id, entry.id, start, start, BumpAction.BUMPED, BumpReason.MEDIA_NOT_READY)
