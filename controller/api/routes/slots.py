"""Programme slots: named recurring blocks ("Bản tin sáng 05:30–06:00") entries are packed into.

A slot has no targets of its own: every commune's entries may be packed into it, so a change
to it moves other communes' programmes too. Creating, changing and deleting slots therefore
needs the admin role; everyone may list them (a slot holds no commune's data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import func, select

from controller.api import audit_trail
from controller.api.deps import Admin, ControllerDep, SessionDep, Viewer
from controller.api.schemas import Slug, StrictBody
from controller.auth.principal import Principal
from controller.db.models import ProgrammeSlotRow, ScheduleEntryRow
from controller.services.container import Controller
from controller.services.schedule_editing import ScheduleInputError, build_slot
from controller.services.schedule_store import save_slot

router = APIRouter(prefix="/api/v1/slots", tags=["slots"])
_422 = status.HTTP_422_UNPROCESSABLE_CONTENT


class SlotIn(StrictBody):
    id: Slug | None = None
    title: str
    rule: dict[str, Any]
    duration_s: float
    gap_s: float = 0.0


class SlotOut(BaseModel):
    id: str
    title: str
    rule: dict[str, Any]
    duration_s: float
    gap_s: float
    created_at: datetime
    updated_at: datetime


def _out(row: ProgrammeSlotRow) -> SlotOut:
    return SlotOut(
        id=row.id,
        title=row.title,
        rule=row.rule,
        duration_s=row.duration_s,
        gap_s=row.gap_s,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.get("")
def list_slots(session: SessionDep, _: Viewer) -> list[SlotOut]:
    return [
        _out(r) for r in session.scalars(select(ProgrammeSlotRow).order_by(ProgrammeSlotRow.id))
    ]


def _store(
    ctl: Controller, body: SlotIn, slot_id: str, creating: bool, who: Principal, request: Request
) -> SlotOut:
    try:
        slot = build_slot({**body.model_dump(exclude={"id"}), "id": slot_id})
    except ScheduleInputError as exc:
        raise HTTPException(_422, exc.reason) from None
    with ctl.sessions() as session:
        exists = session.get(ProgrammeSlotRow, slot_id) is not None
        if creating and exists:
            raise HTTPException(status.HTTP_409_CONFLICT, f"slot {slot_id!r} already exists")
        if not creating and not exists:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no slot {slot_id!r}")
        row = save_slot(session, slot, ctl.clock.now())
        action = "slot.create" if creating else "slot.update"
        detail = f"rule={body.rule} duration_s={body.duration_s} {body.title[:150]}"
        audit_trail.add(session, ctl, who, request, action, f"slot:{slot_id}", detail)
        session.commit()
        out = _out(row)
    ctl.publisher.refresh()
    return out


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_slot(body: SlotIn, request: Request, ctl: ControllerDep, who: Admin) -> SlotOut:
    if body.id is None:
        raise HTTPException(_422, "id: a slot needs an id (e.g. ban-tin-sang)")
    return await run_in_threadpool(_store, ctl, body, body.id, True, who, request)


@router.put("/{slot_id}")
async def update_slot(
    slot_id: str, body: SlotIn, request: Request, ctl: ControllerDep, who: Admin
) -> SlotOut:
    if body.id is not None and body.id != slot_id:
        raise HTTPException(_422, "id in the body differs from the id in the path")
    return await run_in_threadpool(_store, ctl, body, slot_id, False, who, request)


@router.delete("/{slot_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_slot(
    slot_id: str, request: Request, session: SessionDep, ctl: ControllerDep, who: Admin
) -> None:
    """Only an empty slot can go: entries placed in it would lose their time."""
    row = session.get(ProgrammeSlotRow, slot_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no slot {slot_id!r}")
    used = session.scalar(
        select(func.count())
        .select_from(ScheduleEntryRow)
        .where(ScheduleEntryRow.slot_id == slot_id, ScheduleEntryRow.cancelled_at.is_(None))
    )
    if used:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"slot {slot_id!r} still holds {used} entries"
        )
    session.query(ScheduleEntryRow).filter(ScheduleEntryRow.slot_id == slot_id).update(
        {ScheduleEntryRow.slot_id: None}
    )
    session.delete(row)
    audit_trail.add(session, ctl, who, request, "slot.delete", f"slot:{slot_id}", row.title)
    session.commit()
