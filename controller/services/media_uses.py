"""The ``media_uses`` rows: uses of a media file that no column names, kept up to date.

Hashes inside JSON (an announcement's slides, a programme entry's recording, relay fallback
and slides, a command's item with its renditions) cannot be found by an index on the JSON,
so each write of such a record rewrites its rows here, from ORM events: every code path that
sets ``Announcement.visual``, saves a ``ScheduleEntryRow`` or stores a ``Command`` is covered
without each having to remember it. ``kind="owner"`` rows name who uploaded or previewed a
file (:func:`record_owner`), so a fresh file is heard by its maker before anything uses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, event, insert, inspect, select
from sqlalchemy.orm import Mapper, Session

from controller.db.models import Announcement, Command, MediaUse, ScheduleEntryRow

SLIDE = "slide"
SCHEDULE = "schedule"
COMMAND = "command"
OWNER = "owner"


def _ref_hashes(ref: Any) -> set[str]:
    """A wire ``MediaRef``/``ImageRef`` dict's hash and its alternatives' hashes."""
    if not isinstance(ref, Mapping):
        return set()
    found = {ref["sha256"]} if isinstance(ref.get("sha256"), str) else set()
    for alt in ref.get("alternatives") or []:
        found |= _ref_hashes(alt)
    return found


def visual_hashes(visual: Any) -> set[str]:
    """The slide images of a wire ``Visual`` dict."""
    if not isinstance(visual, Mapping):
        return set()
    found: set[str] = set()
    for slide in visual.get("slides") or []:
        if isinstance(slide, Mapping):
            found |= _ref_hashes(slide.get("image"))
    return found


def item_hashes(item: Any) -> set[str]:
    """Every file a wire playlist item, or a programme entry's spec, makes a node fetch."""
    if not isinstance(item, Mapping):
        return set()
    return (
        _ref_hashes(item.get("media"))
        | _ref_hashes(item.get("fallback"))
        | visual_hashes(item.get("visual"))
    )


def command_hashes(signed_payload: str) -> set[str]:
    """The files of a stored command's item (its signed envelope's payload)."""
    try:
        envelope = json.loads(signed_payload)
    except ValueError:
        return set()
    payload = envelope.get("payload") if isinstance(envelope, dict) else None
    return item_hashes(payload.get("item")) if isinstance(payload, dict) else set()


def replace_rows(connection: Connection, kind: str, ref: str, hashes: Iterable[str]) -> None:
    """The rows of one record, written again (inside the flush that changed it)."""
    connection.execute(delete(MediaUse).where(MediaUse.kind == kind, MediaUse.ref == ref))
    rows = [{"sha256": h, "kind": kind, "ref": ref} for h in sorted(set(hashes))]
    if rows:
        connection.execute(insert(MediaUse), rows)


def record_owner(session: Session, sha256: str, username: str) -> None:
    """Remember who uploaded or previewed a file (once per user; the caller commits)."""
    known = select(MediaUse.id).where(
        MediaUse.sha256 == sha256, MediaUse.kind == OWNER, MediaUse.ref == username
    )
    if session.scalar(known.limit(1)) is None:
        session.add(MediaUse(sha256=sha256, kind=OWNER, ref=username[:128]))


def _changed(target: object, attribute: str) -> bool:
    return bool(inspect(target).attrs[attribute].history.has_changes())


@event.listens_for(Announcement, "after_insert")
@event.listens_for(Announcement, "after_update")
def _announcement_written(_: Mapper[Any], connection: Connection, target: Announcement) -> None:
    if _changed(target, "visual"):
        replace_rows(connection, SLIDE, str(target.id), visual_hashes(target.visual))


@event.listens_for(ScheduleEntryRow, "after_insert")
@event.listens_for(ScheduleEntryRow, "after_update")
def _entry_written(_: Mapper[Any], connection: Connection, target: ScheduleEntryRow) -> None:
    if _changed(target, "spec"):
        replace_rows(connection, SCHEDULE, target.id, item_hashes(target.spec))


@event.listens_for(Command, "after_insert")
def _command_stored(_: Mapper[Any], connection: Connection, target: Command) -> None:
    hashes = command_hashes(target.payload)
    if hashes:
        replace_rows(connection, COMMAND, target.id, hashes)


@event.listens_for(Announcement, "after_delete")
@event.listens_for(ScheduleEntryRow, "after_delete")
def _record_deleted(
    _: Mapper[Any], connection: Connection, target: Announcement | ScheduleEntryRow
) -> None:
    kind = SLIDE if isinstance(target, Announcement) else SCHEDULE
    replace_rows(connection, kind, str(target.id), ())
