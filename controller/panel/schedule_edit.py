"""Cancel or move one calendar entry from the week view, inside the operator's communes.

An entry is either an announcement (``ann-{id}``) or a schedule entry row. Moving edits the
time of day (and the date of a one-off); a schedule entry goes through the same
validation and ``save_entry`` as ``PUT /api/v1/schedules/{id}``. Callers audit and the
reached nodes' playlists are recompiled after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import Announcement, ScheduleEntryRow
from controller.panel import recurrence
from controller.services.container import Controller
from controller.services.schedule_editing import (
    ScheduleInputError,
    build_entry,
    check_not_past,
    check_references,
    with_speech,
)
from controller.services.schedule_store import (
    ANNOUNCEMENT_PREFIX,
    entry_model,
    save_entry,
)
from controller.services.zones import ZoneTree, nodes_reached
from schedules.local_time import local_naive_to_utc, to_local_naive

PAST_GRACE_S = 60


class EntryNotFound(LookupError):
    """No such entry, or outside the caller's communes (the two look the same)."""


class MoveRefused(ValueError):
    """The new time is not acceptable: ``key`` names the operator's message in the i18n
    catalogue; ``reason`` is the English detail for the log."""

    def __init__(self, reason: str, key: str = "rule.err.invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key


@dataclass(frozen=True)
class Edited:
    title: str
    next_start: datetime | None
    node_ids: list[str]
    changed: bool = True


def _announcement_id(entry_id: str) -> int | None:
    if not entry_id.startswith(ANNOUNCEMENT_PREFIX):
        return None
    digits = entry_id.removeprefix(ANNOUNCEMENT_PREFIX)
    return int(digits) if digits.isdigit() and len(digits) < 18 else -1


def _targets(session: Session, entry_id: str) -> tuple[Announcement | ScheduleEntryRow, Any]:
    ann_id = _announcement_id(entry_id)
    if ann_id is not None:
        ann = session.get(Announcement, ann_id) if ann_id > 0 else None
        if ann is None:
            raise EntryNotFound(entry_id)
        zones = [t.zone_id for t in ann.targets if t.zone_id]
        nodes = [t.node_id for t in ann.targets if t.node_id]
        return ann, (zones, nodes)
    row = session.get(ScheduleEntryRow, entry_id)
    if row is None:
        raise EntryNotFound(entry_id)
    spec_targets = row.spec.get("targets", {})
    return row, (list(spec_targets.get("zones", [])), list(spec_targets.get("nodes", [])))


def _find(
    session: Session, scope: Scope, entry_id: str
) -> tuple[Announcement | ScheduleEntryRow, list[str]]:
    """The row and the nodes it reaches; EntryNotFound when missing or out of scope."""
    found, (zones, nodes) = _targets(session, entry_id)
    if not scope.allows_targets(zones, nodes):
        raise EntryNotFound(entry_id)
    return found, sorted(nodes_reached(session, ZoneTree.load(session), zones, nodes))


def cancel(ctl: Controller, scope: Scope, entry_id: str) -> Edited:
    """Cancel (the row stays for the log). Cancelling twice is a no-op, not an error."""
    with ctl.sessions() as session:
        found, nodes = _find(session, scope, entry_id)
        if found.cancelled_at is not None:
            return Edited(found.title, None, nodes, changed=False)
        found.cancelled_at = ctl.clock.now()
        session.commit()
        title = found.title
    ctl.publisher.refresh(nodes)
    return Edited(title, None, nodes)


@dataclass(frozen=True)
class Described:
    """What the cancel confirmation shows about an entry."""

    title: str
    recurring: bool
    cancelled: bool


def describe(ctl: Controller, scope: Scope, entry_id: str) -> Described:
    with ctl.sessions() as session:
        found, _ = _find(session, scope, entry_id)
        rule = _rule_json(found)
        recurring = rule is not None and rule.get("freq") != "once"
        return Described(found.title, recurring, found.cancelled_at is not None)


def _rule_json(found: Announcement | ScheduleEntryRow) -> dict[str, Any] | None:
    if isinstance(found, Announcement):
        return dict(found.rule) if found.rule is not None else None
    rule = found.spec.get("rule")
    return dict(rule) if isinstance(rule, dict) else None


def cancel_day(ctl: Controller, scope: Scope, entry_id: str, day: date) -> Edited:
    """Skip one local day of a repeating entry (an exception date); the series stays.

    A one-off has no series: ``MoveRefused`` tells the caller to cancel it whole."""
    now = ctl.clock.now()
    with ctl.sessions() as session:
        found, nodes = _find(session, scope, entry_id)
        rule = _rule_json(found)
        if found.cancelled_at is not None:
            raise EntryNotFound(entry_id)
        if rule is None or rule.get("freq") == "once":
            raise MoveRefused(
                "a one-off entry has no other days: cancel it whole", "sched.err.one_off"
            )
        exdates = sorted({*rule.get("exdates", []), day.isoformat()})
        changed = exdates != sorted(rule.get("exdates", []))
        rule = rule | {"exdates": exdates}
        if isinstance(found, Announcement):
            try:
                checked = recurrence.checked_rule(rule, now)
            except recurrence.RecurrenceError as exc:
                raise MoveRefused(exc.reason, exc.key) from None
            found.rule = checked.model_dump(mode="json")
        else:
            data = entry_model(found).model_dump(mode="json") | {"rule": rule}
            try:
                save_entry(session, build_entry(data), now)
            except ScheduleInputError as exc:
                raise MoveRefused(exc.reason) from None
        session.commit()
        title = found.title
    ctl.publisher.refresh(nodes)
    return Edited(title, None, nodes, changed=changed)


def move(ctl: Controller, scope: Scope, entry_id: str, at: time, day: date | None) -> Edited:
    """Give the entry a new time of day (and a new date when it plays once)."""
    now = ctl.clock.now()
    with ctl.sessions() as session:
        found, nodes = _find(session, scope, entry_id)
        if found.cancelled_at is not None:
            raise EntryNotFound(entry_id)
        next_start: datetime | None
        if isinstance(found, Announcement):
            next_start = _move_announcement(found, at, day, now)
        else:
            next_start = _move_entry(ctl, session, found, at, day, now)
        session.commit()
        title = found.title
    ctl.publisher.refresh(nodes)
    return Edited(title, next_start, nodes)


def _move_announcement(ann: Announcement, at: time, day: date | None, now: datetime) -> datetime:
    if ann.rule is None:
        wall = to_local_naive(ann.start)
        start = local_naive_to_utc(datetime.combine(day or wall.date(), at))
        if start.timestamp() < now.timestamp() - PAST_GRACE_S:
            raise MoveRefused(f"{start.isoformat()} is in the past", "rule.err.past")
        ann.start = start
        return start
    rule_json = dict(ann.rule) | {"time": at.strftime("%H:%M")}
    try:
        rule = recurrence.checked_rule(rule_json, now)
        start = recurrence.first_occurrence(rule, now)
    except recurrence.RecurrenceError as exc:
        raise MoveRefused(exc.reason, exc.key) from None
    ann.rule = rule.model_dump(mode="json")
    ann.start = start
    return start


def _move_entry(
    ctl: Controller,
    session: Session,
    row: ScheduleEntryRow,
    at: time,
    day: date | None,
    now: datetime,
) -> datetime | None:
    entry = entry_model(row)
    if entry.slot is not None or entry.rule is None or entry.rule.time is None:
        raise MoveRefused(
            "the entry takes its time from its programme slot: edit the slot", "sched.err.slot"
        )
    rule = entry.rule.model_dump(mode="json") | {"time": at.strftime("%H:%M")}
    if day is not None and entry.rule.freq == "once":
        rule["start_date"] = day.isoformat()
    data = entry.model_dump(mode="json") | {"rule": rule}
    try:
        moved = build_entry(data)
        check_references(session, moved)
        check_not_past(moved, now)
        moved = with_speech(session, ctl.renderer, moved, now)
    except ScheduleInputError as exc:
        raise MoveRefused(exc.reason) from None
    save_entry(session, moved, now)
    assert moved.rule is not None
    try:
        return recurrence.first_occurrence(moved.rule, now)
    except recurrence.RecurrenceError:
        return None
