"""Schedules: the programme's entries (relays, slot items, recurring notices) and the
"check before save" the panel calls to warn which items would lose time, where and why."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from controller.api import audit_trail
from controller.api.deps import ControllerDep, Operator, SessionDep, Viewer
from controller.api.schemas import Slug, StrictBody, TargetRef
from controller.api.scoping import (
    ScopeDep,
    checked_targets,
    require_editable,
    require_node,
    require_visible,
    spec_targets,
)
from controller.auth.principal import Principal
from controller.auth.scope import Scope
from controller.db.models import Node, ScheduleEntryRow
from controller.services.announcements import Targets
from controller.services.container import Controller
from controller.services.playlist_builder import fleet_zones
from controller.services.quiet_guard import QuietHoursConflict, refuse_in_quiet_hours
from controller.services.schedule_editing import (
    ScheduleInputError,
    build_entry,
    check_not_past,
    check_references,
    media_ref,
    with_speech,
)
from controller.services.schedule_store import (
    active_entry_rows,
    load_calendar,
    save_entry,
)
from protocol.models import ItemKind, LatePolicy, Priority
from schedules import Conflict, ScheduleEntry, ScheduleError, check_conflicts, compile_fleet
from schedules.millis import to_ms

router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"])
_422 = status.HTTP_422_UNPROCESSABLE_CONTENT


class ScheduleIn(StrictBody):
    """An entry as the panel sends it: targets are zone or node ids, media by hash."""

    id: Slug | None = None
    kind: ItemKind = ItemKind.TTS
    title: Annotated[str, Field(max_length=500)]
    text: Annotated[str, Field(max_length=20_000)] | None = None
    media_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    stream_url: Annotated[str, Field(max_length=2000)] | None = None
    fallback_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    duration_s: float | None = None
    priority: Priority | str = Priority.ANNOUNCEMENT
    repeat: int = 1
    volume: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    targets: Annotated[list[TargetRef], Field(min_length=1, max_length=1000)]
    late_policy: LatePolicy = LatePolicy.JOIN
    rule: dict[str, Any] | None = None
    slot: Slug | None = None


class ConflictOut(BaseModel):
    node_id: str
    start: datetime
    end: datetime
    loser_item: str
    loser_entry: str
    winner_item: str | None
    winner_entry: str | None
    reason: str


class ScheduleOut(BaseModel):
    id: str
    entry: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    conflicts: list[ConflictOut] = []


class CheckOut(BaseModel):
    nodes: list[str]
    conflicts: list[ConflictOut]


def _entry_id(item_id: str | None) -> str | None:
    return None if item_id is None else item_id.split("@", 1)[0]


def conflict_out(c: Conflict) -> ConflictOut:
    return ConflictOut(
        node_id=c.node_id,
        start=c.start,
        end=c.end,
        loser_item=c.loser_item,
        loser_entry=_entry_id(c.loser_item) or "",
        winner_item=c.winner_item,
        winner_entry=_entry_id(c.winner_item),
        reason=c.reason,
    )


def _slugify(title: str) -> str:
    text = title.replace("Đ", "D").replace("đ", "d")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "entry"


def _prepare(
    ctl: Controller, body: ScheduleIn, targets: Targets, entry_id: str | None
) -> ScheduleEntry:
    """Validate, resolve references and synthesise speech; raises HTTP 422/503.

    ``targets`` are the ones the caller's scope was checked on (``checked_targets``).
    """
    now = ctl.clock.now()
    with ctl.sessions() as session:
        try:
            data = body.model_dump(
                exclude={"media_sha256", "fallback_sha256", "targets", "id"}, exclude_none=True
            )
            if isinstance(body.priority, str):
                name = body.priority.upper()
                if name not in Priority.__members__:
                    raise ScheduleInputError(f"unknown priority {body.priority!r}")
                data["priority"] = int(Priority[name])
            data["id"] = entry_id or f"{_slugify(body.title)}-{to_ms(now) % 10**8:x}"
            data["targets"] = {"zones": targets.zone_ids, "nodes": targets.node_ids}
            for key, sha in (("media", body.media_sha256), ("fallback", body.fallback_sha256)):
                ref = media_ref(session, sha)
                if ref is not None:
                    data[key] = ref
            old = session.get(ScheduleEntryRow, data["id"])
            data["created_seq"] = old.created_seq if old is not None else to_ms(now)
            entry = build_entry(data)
            check_references(session, entry)
            check_not_past(entry, now)
            entry = with_speech(session, ctl.renderer, entry, now)
            session.commit()
            return entry
        except ScheduleInputError as exc:
            raise HTTPException(_422, exc.reason) from None
        except AudioRejected as exc:
            raise HTTPException(_422, str(exc)) from None
        except (AudioToolError, SynthesisFailed) as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"speech synthesis failed: {exc}"
            ) from None


def conflicts_of(ctl: Controller, entry: ScheduleEntry) -> tuple[list[str], list[Conflict]]:
    """Nodes the entry reaches and what it would push aside (or lose) there."""
    now = ctl.clock.now()
    with ctl.sessions() as session:
        nodes = fleet_zones(session)
        calendar = load_calendar(session, now)
    window = ctl.publisher.window(now)
    try:
        found = check_conflicts(entry, calendar.entries, nodes, window, slots=calendar.slots)
    except ScheduleError as exc:
        raise HTTPException(_422, exc.reason) from None
    reached = sorted(n for n, zones in nodes.items() if entry.targets.reach(n, zones))
    return reached, found


def _out(row: ScheduleEntryRow, conflicts: list[Conflict] | None = None) -> ScheduleOut:
    return ScheduleOut(
        id=row.id,
        entry=row.spec,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
        conflicts=[conflict_out(c) for c in conflicts or []],
    )


def _save(
    ctl: Controller,
    body: ScheduleIn,
    targets: Targets,
    entry_id: str | None,
    who: Principal,
    request: Request,
    action: str,
) -> ScheduleOut:
    entry = _prepare(ctl, body, targets, entry_id)
    _, conflicts = conflicts_of(ctl, entry)
    with ctl.sessions() as session:
        try:
            refuse_in_quiet_hours(session, entry, ctl.clock.now())
        except QuietHoursConflict as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        row = save_entry(session, entry, ctl.clock.now(), created_by=who.username)
        audit_trail.add(
            session,
            ctl,
            who,
            request,
            action,
            f"schedule:{entry.id}",
            f"targets={','.join(body.targets)} {entry.title[:150]}",
        )
        session.commit()
        out = _out(row, conflicts)
    ctl.publisher.refresh()
    return out


def _missing(entry_id: str) -> str:
    return f"no schedule entry {entry_id!r}"


def _live_row(session: Session, scope: Scope, entry_id: str) -> ScheduleEntryRow:
    """The live entry, 404 when missing, cancelled or reaching none of the caller's communes."""
    row = session.get(ScheduleEntryRow, entry_id)
    if row is None or row.cancelled_at is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _missing(entry_id))
    require_visible(scope, *spec_targets(row.spec), _missing(entry_id))
    return row


@router.get("")
def list_schedules(session: SessionDep, _: Viewer, scope: ScopeDep) -> list[ScheduleOut]:
    """Live entries that reach the caller's communes."""
    return [_out(r) for r in active_entry_rows(session) if scope.sees(*spec_targets(r.spec))]


@router.get("/{entry_id}")
def get_schedule(entry_id: str, session: SessionDep, _: Viewer, scope: ScopeDep) -> ScheduleOut:
    return _out(_live_row(session, scope, entry_id))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_schedule(
    body: ScheduleIn,
    request: Request,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
    session: SessionDep,
) -> ScheduleOut:
    """Store a new entry, publish changed playlists; the answer lists its conflicts."""
    targets = checked_targets(session, scope, body.targets)
    if body.id is not None:
        old = session.get(ScheduleEntryRow, body.id)
        # A cancelled entry of another commune is not taken over by re-using its id.
        if old is not None and (
            old.cancelled_at is None or not scope.allows_targets(*spec_targets(old.spec))
        ):
            raise HTTPException(status.HTTP_409_CONFLICT, f"entry {body.id!r} exists")
    return await run_in_threadpool(
        _save, ctl, body, targets, body.id, who, request, "schedule.create"
    )


@router.put("/{entry_id}")
async def update_schedule(
    entry_id: str,
    body: ScheduleIn,
    request: Request,
    ctl: ControllerDep,
    who: Operator,
    scope: ScopeDep,
    session: SessionDep,
) -> ScheduleOut:
    """Replace an entry: the old targets and the new ones must both be the caller's."""
    old = session.get(ScheduleEntryRow, entry_id)
    if old is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _missing(entry_id))
    require_editable(scope, *spec_targets(old.spec), _missing(entry_id))
    targets = checked_targets(session, scope, body.targets)
    if body.id is not None and body.id != entry_id:
        raise HTTPException(_422, "id in the body differs from the id in the path")
    return await run_in_threadpool(
        _save, ctl, body, targets, entry_id, who, request, "schedule.update"
    )


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_schedule(
    entry_id: str, request: Request, ctl: ControllerDep, who: Operator, scope: ScopeDep
) -> None:
    """Cancel (kept for the log); affected nodes get playlists without it."""

    def work() -> None:
        with ctl.sessions() as session:
            row = _live_row(session, scope, entry_id)
            require_editable(scope, *spec_targets(row.spec), _missing(entry_id))
            row.cancelled_at = ctl.clock.now()
            audit_trail.add(
                session, ctl, who, request, "schedule.cancel", f"schedule:{entry_id}", row.title
            )
            session.commit()
        ctl.publisher.refresh()

    await run_in_threadpool(work)


@router.post("/check")
async def check_schedule(
    body: ScheduleIn, ctl: ControllerDep, _: Operator, scope: ScopeDep, session: SessionDep
) -> CheckOut:
    """What saving ``body`` would do, without saving: which nodes, which times, who loses.

    Speech is synthesised here too (cached by text and stored), because its length decides
    overlaps: so this needs the operator role and targets inside the caller's communes.
    """
    targets = checked_targets(session, scope, body.targets)

    def work() -> CheckOut:
        entry = _prepare(ctl, body, targets, body.id)
        nodes, conflicts = conflicts_of(ctl, entry)
        return CheckOut(nodes=nodes, conflicts=[conflict_out(c) for c in conflicts])

    return await run_in_threadpool(work)


class PreviewOut(BaseModel):
    node_id: str
    content_hash: str
    items: list[dict[str, Any]]
    bumped: list[dict[str, Any]]


@router.get("/preview/{node_id}")
def preview_node(
    node_id: str, session: SessionDep, ctl: ControllerDep, _: Viewer, scope: ScopeDep
) -> PreviewOut:
    """The node's compiled playlist for the publish window, with everything that lost."""
    require_node(scope, node_id)
    if session.get(Node, node_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no node {node_id!r}")
    now = ctl.clock.now()
    calendar = load_calendar(session, now)
    nodes = fleet_zones(session, [node_id])
    try:
        result = compile_fleet(
            nodes, calendar.entries, *ctl.publisher.window(now), slots=calendar.slots
        )[node_id]
    except (ScheduleError, KeyError) as exc:
        raise HTTPException(_422, str(exc)) from None
    return PreviewOut(
        node_id=node_id,
        content_hash=result.content_hash,
        items=[i.model_dump(mode="json", exclude_none=True) for i in result.items],
        bumped=[
            {
                "item_id": b.item_id,
                "entry_id": b.entry_id,
                "start": b.start.isoformat(),
                "end": b.end.isoformat(),
                "action": b.action.value,
                "reason": b.reason.value,
                "winner_item": b.winner_item,
            }
            for b in result.bumped
        ],
    )
