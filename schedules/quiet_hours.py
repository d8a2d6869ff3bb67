"""Horn safety in the calendar: quiet hours and volume caps, as pure logic.

Two uses: refusing a new or edited entry whose occurrences fall into a target's quiet hours
(:func:`quiet_hits`, at scheduling time), and making a compiled playlist safe
(:func:`apply_horn_policy`, at compile time — the rule may have changed since the entry was
saved): non-emergency items inside quiet hours are dropped (reported as bumped), every
item volume is capped, and the cap and the windows travel with the playlist so the agent
enforces them too. Windows are local Asia/Ho_Chi_Minh times (``protocol.quiet_hours``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from protocol.codec import canonical_json
from protocol.models import Priority
from protocol.quiet_hours import LOCAL_TZ, QuietWindow
from schedules.compiler import compile_group
from schedules.entries import ProgrammeSlot, ScheduleEntry
from schedules.expansion import ExpandedCalendar
from schedules.results import Bump, BumpAction, BumpReason, CompileResult


@dataclass(frozen=True)
class HornPolicy:
    """What one node must respect: the lowest cap of the node and its zones, and every
    quiet window of its zones (ancestors included)."""

    volume_cap: int | None = None
    quiet: tuple[QuietWindow, ...] = ()

    @property
    def empty(self) -> bool:
        return self.volume_cap is None and not self.quiet


@dataclass(frozen=True)
class QuietHit:
    """One occurrence of a candidate entry inside a quiet window."""

    start: datetime
    end: datetime
    window: QuietWindow

    def describe(self) -> str:
        local = self.start.astimezone(LOCAL_TZ)
        return f"{local:%d/%m/%Y %H:%M} (quiet hours {self.window})"


def quiet_hits(
    candidate: ScheduleEntry,
    windows: Sequence[QuietWindow],
    horizon: tuple[datetime, datetime],
    *,
    slots: Sequence[ProgrammeSlot] = (),
) -> list[QuietHit]:
    """Occurrences of ``candidate`` within ``horizon`` that overlap a quiet window.

    Emergencies are never refused. A recurring rule is checked on every day of the horizon,
    so a weekly notice that only reaches into quiet hours on Sundays is found too.
    """
    if candidate.priority >= Priority.EMERGENCY or not windows:
        return []
    calendar = ExpandedCalendar([candidate], slots, *horizon)
    result = compile_group(calendar, [candidate])
    hits: list[QuietHit] = []
    for item in result.items:
        end = datetime.fromtimestamp(item.end_ts, item.start.tzinfo)
        window = next((w for w in windows if w.overlaps(item.start, end)), None)
        if window is not None:
            hits.append(QuietHit(item.start, end, window))
    return hits


def quiet_message(hits: Sequence[QuietHit], limit: int = 3) -> str:
    """The conflict message an operator reads: when, and which window."""
    shown = ", ".join(h.describe() for h in hits[:limit])
    more = f" and {len(hits) - limit} more" if len(hits) > limit else ""
    return f"falls in quiet hours: {shown}{more}; only emergencies may play then"


def apply_horn_policy(result: CompileResult, policy: HornPolicy) -> CompileResult:
    """The playlist made safe: quiet-hour items dropped, volumes capped, policy attached.

    The content hash covers the policy too, so changing a cap or a window republishes.
    An empty policy returns ``result`` unchanged (same hash as before this feature).
    """
    if policy.empty:
        return result
    cap = policy.volume_cap
    kept = []
    bumps = list(result.bumped)
    for item in result.items:
        end = datetime.fromtimestamp(item.end_ts, item.start.tzinfo)
        window = next((w for w in policy.quiet if w.overlaps(item.start, end)), None)
        if window is not None and item.priority < Priority.EMERGENCY:
            bumps.append(
                Bump(
                    item_id=item.id,
                    entry_id=item.id.split("@", 1)[0],
                    start=item.start,
                    end=end,
                    action=BumpAction.BUMPED,
                    reason=BumpReason.QUIET_HOURS,
                )
            )
            continue
        if cap is not None and item.volume is not None and item.volume > cap:
            item = item.model_copy(update={"volume": cap})
        kept.append(item)
    quiet = tuple(str(w) for w in policy.quiet)
    dumped = [i.model_dump(mode="json", exclude_none=True) for i in kept]
    digest = hashlib.sha256(
        canonical_json({"items": dumped, "volume_cap": cap, "quiet_hours": list(quiet)})
    ).hexdigest()
    bumps.sort(key=lambda b: b.sort_key)
    return CompileResult(kept, digest, bumps, volume_cap=cap, quiet_hours=quiet)
