"""Turning an operator's request into a valid calendar entry, or a reason they can read.

Shared by the REST routes and the YAML import: targets must name existing zones or nodes,
media must exist, a slot must exist, a one-off must not be in the past, and the pydantic
messages of ``schedules`` are flattened into one sentence per problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from audio.pipeline import SpeechRenderer
from controller.db.models import Media, Node, ProgrammeSlotRow, ScheduleEntryRow, Zone
from controller.services.announcements import ensure_media
from controller.services.pronunciation import entries_for_targets
from controller.services.schedule_store import (
    ANNOUNCEMENT_PREFIX,
    media_ref_of,
)
from protocol.models import MediaRef
from schedules import OnceRule, ProgrammeSlot, ScheduleEntry, ScheduleError
from schedules.local_time import local_naive_to_utc, to_local_naive

PAST_GRACE = timedelta(minutes=1)


class ScheduleInputError(ValueError):
    """A calendar request was refused; ``reason`` is shown to the operator (HTTP 422)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def readable(exc: ValidationError) -> str:
    """``field.path: message; ...`` without pydantic's boilerplate."""
    parts = []
    for error in exc.errors()[:5]:
        loc = ".".join(str(p) for p in error["loc"] if not _is_union_tag(p))
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {message}" if loc else message)
    return "; ".join(parts)


def _is_union_tag(part: int | str) -> bool:
    return part in ("once", "daily", "weekly", "monthly", "rrule", "function-after[_coherent()]")


def check_targets(session: Session, zones: Iterable[str], nodes: Iterable[str]) -> None:
    zones, nodes = list(zones), list(nodes)
    known_zones = set(session.scalars(select(Zone.id).where(Zone.id.in_(zones))))
    known_nodes = set(session.scalars(select(Node.id).where(Node.id.in_(nodes))))
    unknown = [f"zone {z}" for z in zones if z not in known_zones]
    unknown += [f"node {n}" for n in nodes if n not in known_nodes]
    if unknown:
        raise ScheduleInputError(f"unknown {', '.join(unknown)}")


def media_ref(session: Session, sha256: str | None) -> dict[str, Any] | None:
    if sha256 is None:
        return None
    media = session.get(Media, sha256)
    if media is None:
        raise ScheduleInputError(f"unknown media {sha256}: upload it first")
    return media_ref_of(media)


def first_start(rule: OnceRule) -> datetime:
    assert rule.time is not None
    return local_naive_to_utc(datetime.combine(rule.start_date, rule.time))


def check_not_past(entry: ScheduleEntry, now: datetime) -> None:
    """One-off times and validity ends must lie ahead; recurring rules must not be over."""
    if entry.valid_until is not None and entry.valid_until <= now:
        raise ScheduleInputError("valid_until is in the past: the entry would never play")
    rule = entry.rule
    if isinstance(rule, OnceRule) and rule.time is not None:
        if first_start(rule) < now - PAST_GRACE:
            raise ScheduleInputError(f"start {first_start(rule).isoformat()} is in the past")
    elif rule is not None and rule.end_date and rule.end_date < to_local_naive(now).date():
        raise ScheduleInputError(f"end_date {rule.end_date} is in the past")


def build_entry(data: dict[str, Any]) -> ScheduleEntry:
    """Validate a full entry dict; raise :class:`ScheduleInputError` with readable reasons."""
    entry_id = data.get("id")
    if isinstance(entry_id, str) and entry_id.startswith(ANNOUNCEMENT_PREFIX):
        raise ScheduleInputError(f"ids starting with {ANNOUNCEMENT_PREFIX!r} are reserved")
    text = data.get("text")
    if isinstance(text, str) and not text.strip():
        raise ScheduleInputError("text is empty")
    try:
        return ScheduleEntry.model_validate(data)
    except ValidationError as exc:
        raise ScheduleInputError(readable(exc)) from None
    except ScheduleError as exc:
        raise ScheduleInputError(exc.reason) from None


def build_slot(data: dict[str, Any]) -> ProgrammeSlot:
    try:
        return ProgrammeSlot.model_validate(data)
    except ValidationError as exc:
        raise ScheduleInputError(readable(exc)) from None


def check_references(session: Session, entry: ScheduleEntry) -> None:
    """Targets, slot and (already resolved) media must exist in this database."""
    check_targets(session, entry.targets.zones, entry.targets.nodes)
    if entry.slot is not None and session.get(ProgrammeSlotRow, entry.slot) is None:
        raise ScheduleInputError(f"unknown slot {entry.slot}")


def with_speech(
    session: Session, renderer: SpeechRenderer, entry: ScheduleEntry, now: datetime
) -> ScheduleEntry:
    """A tts entry with its synthesised media attached (same text → same file, made once).

    Raises the audio package's errors (``AudioRejected``, ``SynthesisFailed``...)."""
    if entry.kind.value != "tts" or entry.media is not None or entry.text is None:
        return entry
    entries = entries_for_targets(session, entry.targets.zones, entry.targets.nodes)
    rendered = renderer.render_text(entry.text, entries=entries)
    media = ensure_media(session, rendered, "tts", now)
    return entry.model_copy(update={"media": MediaRef.model_validate(media_ref_of(media))})


def existing_seq(session: Session, entry_id: str) -> int | None:
    row = session.get(ScheduleEntryRow, entry_id)
    return None if row is None else row.created_seq
