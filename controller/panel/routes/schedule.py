"""The week of a zone's programme as its loudspeakers will play it; cancel and move entries.

Viewers read it; operators get a cancel button and a "move" form on each entry whose
targets lie inside their communes (an entry outside answers 404, as everywhere).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from controller.auth.principal import Role
from controller.auth.scope import Scope
from controller.db.models import Zone
from controller.panel import rule_words, schedule_edit, vn_dates
from controller.panel.page import OperatorPage, Page, PanelNotFound, ViewerPage
from controller.panel.queries import nodes as node_q
from controller.panel.queries import week as week_q
from controller.panel.timefmt import LOCAL, fmt_datetime, local_midnight_utc, today_local
from controller.services.zones import COMMUNE_KINDS, ZoneTree, nodes_reached

router = APIRouter(prefix="/panel/schedule", include_in_schema=False)
# The banners a redirect may ask for, by name: message keys of the i18n catalogue.
NOTICES = {
    "cancelled": "sched.cancelled",
    "cancelled_day": "sched.cancelled_day",
    "moved": "sched.moved",
}


def _monday(value: str, today: date) -> date:
    try:
        day = vn_dates.parse_date(value[:40]) if value.strip() else today
    except vn_dates.BadDateTime:
        day = today
    return day - timedelta(days=day.weekday())


@router.get("")
def week(
    page: ViewerPage,
    zone: str = "",
    start: str = "",
    done: str = "",
    entry: str = "",
    at: datetime | None = None,
) -> HTMLResponse:
    """``done``/``entry``/``at`` name the change just made: only known message keys and
    server-side values reach the banner, never text from the address bar."""
    return _week_page(page, zone, start, notice=(done, entry, at))


def _week_page(
    page: Page,
    zone: str,
    start: str,
    *,
    notice: tuple[str, str, datetime | None] = ("", "", None),
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    now = page.ctl.clock.now()
    today = today_local(now)
    monday = _monday(start, today)
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        zones = node_q.zones_in_scope(session, scope)
        chosen = zone or _home_zone(zones)
        days: list[tuple[date, list[week_q.Occurrence]]] = []
        found: list[week_q.Occurrence] = []
        if chosen:
            if not scope.allows_zone(chosen):
                raise PanelNotFound(chosen)
            nodes = sorted(nodes_reached(session, ZoneTree.load(session), [chosen], []))
            found = week_q.week_occurrences(session, now, local_midnight_utc(monday), nodes, scope)
            for offset in range(7):
                day = monday + timedelta(days=offset)
                days.append((day, [o for o in found if o.start.astimezone(LOCAL).date() == day]))
    return page.render(
        "schedule.html",
        status_code,
        zones=zones,
        zone=chosen,
        monday=monday,
        days=days,
        today=today,
        prev=(monday - timedelta(days=7)).isoformat(),
        next=(monday + timedelta(days=7)).isoformat(),
        message=_notice_text(page, notice, found),
        error=error,
        can_edit=page.can(Role.OPERATOR),
        now=now,
        rule_words=lambda rule: rule_words.describe(rule, page.t),
    )


def _home_zone(zones: list[Zone]) -> str:
    """The first commune in scope (what an operator plans for), else the first zone."""
    communes = [z for z in zones if z.kind in COMMUNE_KINDS]
    return (communes or zones)[0].id if zones else ""


def _notice_text(
    page: Page, notice: tuple[str, str, datetime | None], shown: list[week_q.Occurrence]
) -> str:
    done, entry, at = notice
    if done not in NOTICES:
        return ""
    # A title only from entries this user sees on this page (never from the query string).
    title = next((o.title for o in shown if o.entry.id == entry), page.t("sched.the_entry"))
    return page.t(NOTICES[done], title=title, start=fmt_datetime(at) if at else "-")


def _back(zone: str, start: str, **extra: str) -> RedirectResponse:
    query = urlencode({"zone": zone, "start": start, **extra})
    return RedirectResponse(f"/panel/schedule?{query}", status_code=303)


@router.post("/cancel")
async def cancel(
    page: OperatorPage,
    entry: Annotated[str, Form(max_length=64)],
    zone: Annotated[str, Form(max_length=64)] = "",
    start: Annotated[str, Form(max_length=10)] = "",
    occurrence: Annotated[str, Form(max_length=40)] = "",
    what: Annotated[str, Form(max_length=8)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """First POST: the confirmation page (this day or the whole series); second: do it."""
    scope = _scope(page)
    try:
        at = datetime.fromisoformat(occurrence) if occurrence else None
        if at is not None and at.tzinfo is None:
            raise ValueError("no offset")
    except ValueError:
        at = None
    try:
        about = await run_in_threadpool(schedule_edit.describe, page.ctl, scope, entry)
    except schedule_edit.EntryNotFound:
        raise PanelNotFound(entry) from None
    one_day = about.recurring and at is not None and what != "series"
    if confirm != "yes":
        return page.render(
            "schedule_cancel.html",
            entry=entry,
            about=about,
            zone=zone,
            start=start,
            occurrence=at,
            one_day=one_day,
        )
    try:
        if one_day and at is not None:
            day = at.astimezone(LOCAL).date()
            done = await run_in_threadpool(schedule_edit.cancel_day, page.ctl, scope, entry, day)
        else:
            done = await run_in_threadpool(schedule_edit.cancel, page.ctl, scope, entry)
    except schedule_edit.EntryNotFound:
        raise PanelNotFound(entry) from None
    except schedule_edit.MoveRefused as exc:
        reason = page.t("sched.error_cancel", reason=page.t(exc.key))
        return _week_page(page, zone, start, error=reason, status_code=422)
    if done.changed:
        action = "schedule.cancel_day" if one_day and at else "schedule.cancel"
        detail = f"{at.astimezone(LOCAL).date()} {done.title}" if one_day and at else done.title
        with page.ctl.sessions.begin() as session:
            page.audit(session, action, f"schedule:{entry}", detail[:200])
    if one_day and at is not None:
        return _back(zone, start, done="cancelled_day", entry=entry, at=at.isoformat())
    return _back(zone, start, done="cancelled", entry=entry)


@router.post("/move")
async def move(
    page: OperatorPage,
    entry: Annotated[str, Form(max_length=64)],
    new_time: Annotated[str, Form(max_length=16)],
    new_date: Annotated[str, Form(max_length=16)] = "",
    zone: Annotated[str, Form(max_length=64)] = "",
    start: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    scope = _scope(page)
    try:
        at = vn_dates.parse_time(new_time)
        day = vn_dates.parse_optional_date(new_date)
    except vn_dates.BadDateTime as exc:
        reason = page.t(exc.key, value=exc.value)
        return _week_page(page, zone, start, error=reason, status_code=422)
    try:
        done = await run_in_threadpool(schedule_edit.move, page.ctl, scope, entry, at, day)
    except schedule_edit.EntryNotFound:
        raise PanelNotFound(entry) from None
    except schedule_edit.MoveRefused as exc:
        reason = page.t("sched.error_move", reason=page.t(exc.key))
        return _week_page(page, zone, start, error=reason, status_code=422)
    with page.ctl.sessions.begin() as session:
        page.audit(
            session,
            "schedule.move",
            f"schedule:{entry}",
            f"time={at:%H:%M} date={day or ''} next={done.next_start or ''} {done.title[:150]}",
        )
    extra = {"at": done.next_start.isoformat()} if done.next_start else {}
    return _back(zone, start, done="moved", entry=entry, **extra)


def _scope(page: Page) -> Scope:
    with page.ctl.sessions() as session:
        return page.scope(session)
