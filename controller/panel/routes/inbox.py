"""Hộp thư cấp trên: bulletins from the province for the user's communes (schedule into a
slot or at a time, or decline with a reason), and what the user's own bulletins became in
each commune. The same actions are in the JSON API (``/api/v1/inbox``, ``/bulletins``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, BulletinDelivery, ProgrammeSlotRow
from controller.panel import vn_dates
from controller.panel.page import OperatorPage, Page, PanelNotFound, ViewerPage
from controller.services.bulletins import (
    BulletinError,
    BulletinNotFound,
    DeliveryView,
    decline_delivery,
    delivery_views,
    get_delivery,
    inbox_deliveries,
    reorder_slot_head,
    schedule_delivery,
    slot_head,
)

router = APIRouter(prefix="/panel/inbox", include_in_schema=False)


@router.get("")
def inbox_page(page: ViewerPage, done: str = "", error: str = "") -> HTMLResponse:
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        views = delivery_views(session, inbox_deliveries(session, scope, limit=300))
        bulletins = {
            b.id: b
            for b in session.scalars(
                select(Bulletin).where(Bulletin.id.in_({v.bulletin_id for v in views}))
            )
        }
        slots = list(session.scalars(select(ProgrammeSlotRow).order_by(ProgrammeSlotRow.id)))
        places = _head_places(session, views)
        sent_query = select(Bulletin).order_by(Bulletin.id.desc()).limit(50)
        if not page.principal.all_communes:
            sent_query = sent_query.where(Bulletin.created_by == page.principal.username)
        sent = [
            (b, delivery_views(session, [d for d in b.deliveries if scope.allows_zone(d.zone_id)]))
            for b in session.scalars(sent_query)
        ]
    return page.render(
        "inbox.html",
        items=[(v, bulletins[v.bulletin_id]) for v in views],
        slots=slots,
        sent=[(b, v) for b, v in sent if v],
        places=places,
        may_send=page.may_send_bulletins(),
        done=done,
        error=error,
    )


def _head_places(session: Session, views: list[DeliveryView]) -> dict[int, int]:
    """Announcement id -> its place (1, 2, …) among the priority items heading its slot run."""
    places: dict[int, int] = {}
    runs = {(v.zone_id, v.slot_id, v.scheduled_for) for v in views if v.slot_id and v.scheduled_for}
    for zone_id, slot_id, start in runs:
        assert slot_id is not None and start is not None
        for place, ann_id in enumerate(slot_head(session, zone_id, slot_id, start), start=1):
            places[ann_id] = place
    return places


def _delivery(page: Page, session: Session, bulletin_id: int, zone_id: str) -> BulletinDelivery:
    """Another commune's delivery is "not found", exactly like one that does not exist."""
    if not page.scope(session).allows_zone(zone_id):
        raise PanelNotFound(f"{bulletin_id}/{zone_id}")
    try:
        return get_delivery(session, bulletin_id, zone_id)
    except BulletinNotFound:
        raise PanelNotFound(f"{bulletin_id}/{zone_id}") from None


def _back(key: str, error: str = "") -> RedirectResponse:
    query = f"?done={key}" if not error else f"?error={quote(error)}"
    return RedirectResponse(f"/panel/inbox{query}", status_code=303)


@router.post("/{bulletin_id}/{zone_id}/schedule")
def schedule(
    page: OperatorPage,
    bulletin_id: int,
    zone_id: str,
    slot_id: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
) -> RedirectResponse:
    with page.ctl.sessions() as session:
        delivery = _delivery(page, session, bulletin_id, zone_id)
        try:
            when = vn_dates.parse_datetime(start) if start and not slot_id else None
            ann = schedule_delivery(
                page.ctl,
                session,
                delivery,
                slot_id=slot_id or None,
                start=when,
                by=page.principal.username,
            )
        except vn_dates.BadDateTime as exc:
            return _back("", page.t(exc.key, value=exc.value))
        except (BulletinError, ValueError) as exc:
            return _back("", str(exc) or "start")
        page.audit(
            session,
            "bulletin.schedule",
            f"bulletin:{bulletin_id}",
            f"zone={zone_id} announcement={ann.id}",
        )
        session.commit()
    page.ctl.publisher.refresh()
    return _back("scheduled")


@router.post("/{bulletin_id}/{zone_id}/decline")
def decline(
    page: OperatorPage, bulletin_id: int, zone_id: str, reason: Annotated[str, Form()] = ""
) -> RedirectResponse:
    with page.ctl.sessions() as session:
        delivery = _delivery(page, session, bulletin_id, zone_id)
        level = session.get_one(Bulletin, bulletin_id).level
        try:
            decline_delivery(page.ctl, delivery, reason, page.principal.username, level)
        except BulletinError as exc:
            return _back("", str(exc))
        page.audit(
            session,
            "bulletin.decline",
            f"bulletin:{bulletin_id}",
            f"zone={zone_id} reason={reason[:200]}",
        )
        session.commit()
    return _back("declined")


@router.post("/slot-order")
def move_priority(
    page: OperatorPage,
    zone_id: Annotated[str, Form(max_length=100)],
    slot_id: Annotated[str, Form(max_length=100)],
    start: Annotated[str, Form(max_length=40)],
    announcement_id: Annotated[int, Form()],
    move: Annotated[Literal["up", "down"], Form()],
) -> RedirectResponse:
    """Move one priority item a place up or down among the priority items at the head of its
    slot run (the same service as ``POST /api/v1/inbox/slot-order``)."""
    try:
        when = datetime.fromisoformat(start)
    except ValueError:
        return _back("", "start")
    with page.ctl.sessions() as session:
        if not page.scope(session).allows_zone(zone_id):
            raise PanelNotFound(zone_id)
        order = slot_head(session, zone_id, slot_id, when)
        if announcement_id not in order:
            raise PanelNotFound(str(announcement_id))
        at = order.index(announcement_id)
        to = max(0, min(len(order) - 1, at + (-1 if move == "up" else 1)))
        order[at], order[to] = order[to], order[at]
        try:
            reorder_slot_head(session, zone_id, slot_id, when, order)
        except BulletinError as exc:
            return _back("", str(exc))
        page.audit(session, "bulletin.reorder", f"slot:{slot_id}", f"zone={zone_id} order={order}")
        session.commit()
    page.ctl.publisher.refresh()
    return _back("reordered")
