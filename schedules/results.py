"""What a compile pass returns: the playlist items and everything that did not fit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from protocol.models import PlaylistItem


class BumpAction(StrEnum):
    BUMPED = "bumped"
    """The occurrence does not play at all."""
    SHORTENED = "shortened"
    """A stream or silence plays, but cut (possibly into pieces) around a winner."""
    MOVED = "moved"
    """Speech moved later inside its slot to make room for a winner."""


class BumpReason(StrEnum):
    SLOT_FULL = "slot full"
    OVERLAP = "overlaps higher-priority item"
    WINDOW_EDGE = "crosses window edge"
    MEDIA_NOT_READY = "media not ready"
    QUIET_HOURS = "quiet hours"


@dataclass(frozen=True, slots=True)
class Bump:
    """One occurrence that was dropped, cut or moved, and why.

    ``start``/``end`` are the planned UTC times before the change; ``winner_item`` is the
    playlist item that took the time, when there is one.
    """

    item_id: str
    entry_id: str
    start: datetime
    end: datetime
    action: BumpAction
    reason: BumpReason
    winner_item: str | None = None

    @property
    def sort_key(self) -> tuple[datetime, str, str]:
        return (self.start, self.item_id, self.action.value)


@dataclass(frozen=True, slots=True)
class CompileResult:
    """A node's playlist for a window: ordered, non-overlapping items and their hash.

    ``content_hash`` only depends on the items, so an unchanged calendar gives an unchanged
    hash and :class:`schedules.republish.RepublishGate` can skip the publish.
    """

    items: list[PlaylistItem]
    content_hash: str
    bumped: list[Bump] = field(default_factory=list)
    # horn safety (schedules.quiet_hours.apply_horn_policy): sent with the playlist
    volume_cap: int | None = None
    quiet_hours: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Conflict:
    """What adding a candidate entry would do on one node: someone loses time there."""

    node_id: str
    start: datetime
    end: datetime
    loser_item: str
    winner_item: str | None
    reason: str
