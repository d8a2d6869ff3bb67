"""Pure rules of upstream bulletins: where a priority bulletin goes, and how priority items
at the head of a slot may be reordered. No database, no clock (``now`` is passed in)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

LEVELS = ("normal", "priority", "emergency")
COMMUNE_KINDS = frozenset({"xã", "phường", "thị trấn", "đặc khu", "commune"})
"""Zone ``kind`` labels that are communes (the unit with an inbox and its own operator)."""


class BulletinRuleError(ValueError):
    """A placement or reorder that the rules refuse, with the reason to show."""


@dataclass(frozen=True)
class Placement:
    """Where a priority bulletin airs: the head of ``slot_id``'s run at ``start``, or (no
    slot) at ``start`` itself, which is "at once"."""

    slot_id: str | None
    start: datetime


def place_priority(
    slot_runs: Iterable[tuple[str, datetime]],
    now: datetime,
    window: timedelta,
    lead: timedelta,
) -> Placement:
    """The first slot run starting in ``[now + lead, now + window)``; none -> at once.

    A run starting sooner than ``lead`` is skipped: agents could not fetch the audio in time.
    Ties between slots starting together go to the smaller slot id (deterministic).
    """
    earliest, latest = now + lead, now + window
    upcoming = sorted(
        (start, slot_id) for slot_id, start in slot_runs if earliest <= start < latest
    )
    if upcoming:
        start, slot_id = upcoming[0]
        return Placement(slot_id, start)
    return Placement(None, earliest)


def next_rank(ranks: Iterable[int | None]) -> int:
    """Rank for a newly placed priority item: after the priority items already there."""
    known = [r for r in ranks if r is not None]
    return max(known, default=-1) + 1


def reorder_priority(current: Sequence[tuple[int, bool]], wanted: Sequence[int]) -> dict[int, int]:
    """New ranks for a slot run's items given as ``(announcement_id, is_priority)``.

    ``wanted`` must list exactly the priority items (operators may reorder only among
    them); normal items keep their place after them. Returns ``id -> rank``.
    """
    priority = [item_id for item_id, is_priority in current if is_priority]
    normal = {item_id for item_id, is_priority in current if not is_priority}
    moved_normal = sorted(normal.intersection(wanted))
    if moved_normal:
        raise BulletinRuleError(
            f"only priority items can be reordered; not priority: {moved_normal}"
        )
    if sorted(wanted) != sorted(priority) or len(set(wanted)) != len(wanted):
        raise BulletinRuleError(
            f"give every priority item of the slot exactly once: expected {sorted(priority)}"
        )
    return {item_id: rank for rank, item_id in enumerate(wanted)}
