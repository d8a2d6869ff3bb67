"""The calendar in the database: programme slots and schedule entries, as rows and as models.

Two kinds of rows become :class:`schedules.ScheduleEntry`:

* ``announcements`` (the operator's notices, one-off or recurring through ``rule``) — entry
  id ``ann-{id}``; a one-off has ``rule = NULL`` and plays once at ``start``; one with a
  ``slot_id`` is packed into that slot on the local date of ``start`` (priority bulletins
  carry a small ``slot_rank`` as their ``created_seq`` so they are packed first). Only
  approved (or ``not_required``) announcements are read: held ones never reach a playlist;
* ``schedule_entries`` (the programme: relays, slot items, recurring notices, YAML imports)
  — the whole entry is kept as JSON (``spec``) so every field of the pure model survives,
  with a few columns copied out for queries.

``created_seq`` is the creation time in epoch milliseconds for both, so "earlier created
wins a tie" means the same thing whichever table an entry came from. The ids ``ann-*`` are
reserved for announcements.

The tables (``ProgrammeSlotRow``, ``ScheduleEntryRow``) are in ``controller.db.models``
with every other table; they are imported here for the callers of this store.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Announcement, Media, ProgrammeSlotRow, ScheduleEntryRow
from controller.services.approval import AIRABLE
from schedules import OnceRule, ProgrammeSlot, ScheduleEntry
from schedules.local_time import to_local_naive
from schedules.millis import to_ms

log = logging.getLogger(__name__)

ANNOUNCEMENT_PREFIX = "ann-"


@dataclass(frozen=True)
class Calendar:
    """Everything a compile pass needs, read in one session."""

    entries: list[ScheduleEntry]
    slots: list[ProgrammeSlot]


def slot_model(row: ProgrammeSlotRow) -> ProgrammeSlot:
    return ProgrammeSlot.model_validate(
        {
            "id": row.id,
            "title": row.title,
            "rule": row.rule,
            "duration_s": row.duration_s,
            "gap_s": row.gap_s,
        }
    )


def entry_model(row: ScheduleEntryRow) -> ScheduleEntry:
    return ScheduleEntry.model_validate(row.spec)


def media_ref_of(media: Media) -> dict[str, Any]:
    return {
        "sha256": media.sha256,
        "ext": media.ext,
        "size": media.size,
        "duration_s": media.duration_s,
    }


def announcement_entry(ann: Announcement) -> ScheduleEntry:
    """The calendar view of an announcement (one-off at ``start`` when ``rule`` is NULL)."""
    rule: dict[str, Any]
    if ann.slot_id is not None:
        day = to_local_naive(ann.start).date()
        rule = OnceRule(freq="once", start_date=day).model_dump(mode="json")
    elif ann.rule is None:
        wall = to_local_naive(ann.start)
        rule = OnceRule(freq="once", start_date=wall.date(), time=wall.time()).model_dump(
            mode="json"
        )
    else:
        rule = ann.rule
    title = ann.title.strip() or (ann.text or "").strip().split("\n", 1)[0][:120] or "Thông báo"
    data: dict[str, Any] = {
        "id": f"{ANNOUNCEMENT_PREFIX}{ann.id}",
        "kind": ann.kind,
        "title": title[:500],
        "priority": ann.priority,
        "repeat": max(1, ann.repeat),
        "volume": ann.volume,
        "valid_until": ann.valid_until,
        "targets": _targets(ann),
        "created_seq": to_ms(ann.created_at) if ann.slot_rank is None else ann.slot_rank,
        "rule": rule,
        "slot": ann.slot_id,
    }
    if ann.media is not None:
        data["media"] = media_ref_of(ann.media)
    elif ann.text:
        data["text"] = ann.text
    if ann.visual is not None:
        data["visual"] = ann.visual
    if ann.kind in ("stream", "silence"):
        data["duration_s"] = ann.duration_s
        data["stream_url"] = ann.stream_url
    return ScheduleEntry.model_validate(data)


def _targets(ann: Announcement) -> dict[str, list[str]]:
    return {
        "zones": [t.zone_id for t in ann.targets if t.zone_id],
        "nodes": [t.node_id for t in ann.targets if t.node_id],
    }


def load_calendar(session: Session, now: datetime) -> Calendar:
    """Active slots and entries (not cancelled, not expired). Rows that no longer validate
    (a zone deleted under them, a hand-edited database) are logged and left out, so one bad
    row never stops every node's playlist."""
    slots = []
    for slot_row in session.scalars(select(ProgrammeSlotRow).order_by(ProgrammeSlotRow.id)):
        try:
            slots.append(slot_model(slot_row))
        except ValidationError as exc:
            log.error("programme slot %s is invalid, skipped: %s", slot_row.id, exc)
    known_slots = {s.id for s in slots}
    entries: list[ScheduleEntry] = []
    anns = session.scalars(
        select(Announcement).where(
            Announcement.cancelled_at.is_(None),
            Announcement.approval.in_(AIRABLE),  # held items never reach a playlist
            (Announcement.valid_until.is_(None)) | (Announcement.valid_until > now),
        )
    )
    for ann in anns:
        if ann.rule is None and ann.start.timestamp() + ann.duration_s * max(1, ann.repeat) < (
            now.timestamp() - 86_400
        ):
            continue  # long finished one-off: nothing left to compile
        if ann.slot_id is not None and ann.slot_id not in known_slots:
            log.error("announcement %s names missing slot %s, skipped", ann.id, ann.slot_id)
            continue
        try:
            entries.append(announcement_entry(ann))
        except ValidationError as exc:
            log.error("announcement %s is invalid, skipped: %s", ann.id, exc)
    rows = session.scalars(
        select(ScheduleEntryRow).where(
            ScheduleEntryRow.cancelled_at.is_(None),
            (ScheduleEntryRow.valid_until.is_(None)) | (ScheduleEntryRow.valid_until > now),
        )
    )
    for row in rows:
        try:
            entry = entry_model(row)
        except ValidationError as exc:
            log.error("schedule entry %s is invalid, skipped: %s", row.id, exc)
            continue
        if entry.slot is not None and entry.slot not in known_slots:
            log.error("schedule entry %s names missing slot %s, skipped", row.id, entry.slot)
            continue
        entries.append(entry)
    return Calendar(entries, slots)


def save_slot(session: Session, slot: ProgrammeSlot, now: datetime) -> ProgrammeSlotRow:
    """Insert or update (by id); the caller commits."""
    row = session.get(ProgrammeSlotRow, slot.id)
    if row is None:
        row = ProgrammeSlotRow(id=slot.id, created_at=now)
        session.add(row)
    row.title = slot.title
    row.rule = slot.rule.model_dump(mode="json")
    row.duration_s = slot.duration_s
    row.gap_s = slot.gap_s
    row.updated_at = now
    return row


def save_entry(
    session: Session, entry: ScheduleEntry, now: datetime, created_by: str | None = None
) -> ScheduleEntryRow:
    """Insert or update (by id); a re-saved cancelled entry is active again. Caller commits."""
    row = session.get(ScheduleEntryRow, entry.id)
    if row is None:
        row = ScheduleEntryRow(id=entry.id, created_at=now, created_by=created_by)
        session.add(row)
    row.kind = entry.kind.value
    row.title = entry.title
    row.priority = int(entry.priority)
    row.slot_id = entry.slot
    row.created_seq = entry.created_seq
    row.spec = entry.model_dump(mode="json")
    row.valid_until = entry.valid_until
    row.cancelled_at = None
    row.updated_at = now
    return row


def active_entry_rows(session: Session) -> Sequence[ScheduleEntryRow]:
    query = (
        select(ScheduleEntryRow)
        .where(ScheduleEntryRow.cancelled_at.is_(None))
        .order_by(ScheduleEntryRow.created_seq, ScheduleEntryRow.id)
    )
    return session.scalars(query).all()
