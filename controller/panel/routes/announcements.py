"""Announcements: list, compose (preview, upload, record), conflicts, save, cancel."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from audio.media import RenderedMedia
from controller.db.models import Announcement
from controller.panel import announce, audio_words, recurrence, rule_words, vn_dates
from controller.panel import clashes as clashes_q
from controller.panel.page import OperatorPage, Page, PanelNotFound, ViewerPage
from controller.panel.queries import announcements as ann_q
from controller.panel.queries import target_tree
from controller.panel.timefmt import fmt_datetime, today_local
from controller.services.recordings import import_recording
from controller.services.visual import VisualIn
from controller.services.zones import ZoneTree, nodes_reached
from protocol.models import Priority

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
router = APIRouter(prefix="/panel/announcements", include_in_schema=False)
log = logging.getLogger("loa.panel")
PRIORITIES = (Priority.ANNOUNCEMENT, Priority.EMERGENCY, Priority.BACKGROUND)


@router.get("")
def list_page(
    page: ViewerPage, created: int | None = None, nodes: int = 0, cancelled: int | None = None
) -> HTMLResponse:
    now = page.ctl.clock.now()
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        items = ann_q.recent(session, scope)
        message = ""
        if created is not None:
            ann = session.get(Announcement, created)
            if ann is not None:
                message = page.t("ann.sent", id=ann.id, nodes=nodes, start=fmt_datetime(ann.start))
        if cancelled is not None:
            # the title from the database, and only of an announcement this user may see
            done = next((a for a in items if a.id == cancelled and a.cancelled_at), None)
            if done is not None:
                message = page.t("ann.cancel_done", title=done.title or f"#{done.id}")
        played = {a.id for a in items if ann_q.aired(a, now)}
        rows = ann_q.listing(session, scope, now)
    return page.render(
        "announcements.html",
        rows=rows,
        message=message,
        played=played,
        rule_words=lambda rule: rule_words.describe(rule, page.t),
    )


def _compose(page: Page, status_code: int = 200, error: str = "", **form: object) -> HTMLResponse:
    with page.ctl.sessions() as session:
        tree = target_tree.build(session, page.scope(session))
    return page.render(
        "compose.html",
        status_code,
        tree=tree,
        engines=audio_words.engine_names(page.t, page.ctl.settings.tts_engine_order),
        priorities=PRIORITIES,
        error=error,
        form=form,
        recurring=form.get("recurring") or recurrence.RecurringForm(),
        weekday_codes=recurrence.WEEKDAYS,
    )


@router.get("/new")
def compose_page(page: OperatorPage) -> HTMLResponse:
    return _compose(page)


def _error_text(page: Page, exc: announce.ComposeError) -> str:
    """The translated message: ``reason`` is a catalogue key (a refused rule) or, for a
    date or time, ``value`` is what was typed; never English text."""
    return page.t(exc.key, reason=page.t(exc.reason) if exc.reason else "", value=exc.reason)


def _start(when: str, at: str) -> datetime | None:
    """None for "now" (the service queues it); else the typed local date and time."""
    if when == "now":
        return None
    try:
        return vn_dates.parse_datetime(at)
    except vn_dates.BadDateTime as exc:
        raise announce.ComposeError(exc.key, exc.value) from None


def _recurring_rule(page: Page, form: recurrence.RecurringForm) -> tuple[datetime, dict[str, Any]]:
    """The first play and the validated rule JSON; ComposeError with the reason if bad."""
    now = page.ctl.clock.now()
    try:
        rule = recurrence.checked_rule(recurrence.rule_data(form, today_local(now)), now)
        return recurrence.first_occurrence(rule, now), rule.model_dump(mode="json")
    except recurrence.RecurrenceError as exc:
        raise announce.ComposeError("ann.error_rule", exc.key) from None
    except vn_dates.BadDateTime as exc:
        raise announce.ComposeError(exc.key, exc.value) from None


@router.post("")
async def create(
    page: OperatorPage,
    targets: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads, never mutates
    text: Annotated[str, Form(max_length=10_000)] = "",
    title: Annotated[str, Form(max_length=500)] = "",
    engine: Annotated[str, Form(max_length=40)] = "",
    media_sha256: Annotated[str, Form(max_length=64)] = "",
    when: Annotated[str, Form(max_length=10)] = "now",
    at: Annotated[str, Form(max_length=40)] = "",
    priority: Annotated[int, Form()] = int(Priority.ANNOUNCEMENT),
    freq: Annotated[str, Form(max_length=10)] = "daily",
    weekdays: Annotated[list[str], Form()] = [],  # noqa: B006
    time_of_day: Annotated[str, Form(max_length=16)] = "",
    from_date: Annotated[str, Form(max_length=16)] = "",
    until: Annotated[str, Form(max_length=16)] = "",
    first_day: Annotated[str, Form(max_length=4)] = "",
    internal: Annotated[str, Form(max_length=1)] = "",
    board_on: Annotated[str, Form(max_length=1)] = "",
    board_text: Annotated[str, Form(max_length=2000)] = "",
    board_ticker: Annotated[str, Form(max_length=500)] = "",
    board_slides: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    recurring = recurrence.RecurringForm(
        freq, weekdays, time_of_day, from_date, until, first_day=bool(first_day)
    )
    form: dict[str, object] = {"text": text, "title": title, "targets": targets, "when": when}
    form |= {"at": at, "recurring": recurring, "internal": internal == "1"}
    form |= {"board_on": board_on == "1", "board_text": board_text, "board_ticker": board_ticker}
    try:
        rule = None
        start: datetime | None
        if when == "recurring":
            start, rule = _recurring_rule(page, recurring)
        else:
            start = _start(when, at)
        draft = announce.Draft(
            text=text,
            title=title,
            target_ids=targets,
            start=start,
            priority=Priority(priority) if priority in set(PRIORITIES) else Priority.ANNOUNCEMENT,
            engine=engine if engine in page.ctl.settings.tts_engine_order else None,
            media_sha256=media_sha256 or None,
            rule=rule,
            internal=internal == "1",
            visual=board_from_form(board_text, board_ticker, board_slides)
            if board_on == "1"
            else None,
        )
        with page.ctl.sessions() as session:
            scope = page.scope(session)
        created = await run_in_threadpool(
            announce.create, page.ctl, scope, draft, page.principal.username, page.audit
        )
    except announce.ComposeError as exc:
        return _compose(page, 422, _error_text(page, exc), **form)
    except (AudioRejected, AudioToolError, SynthesisFailed) as exc:
        reason = audio_words.audio_reason(page.t, exc)
        return _compose(page, 422, page.t("ann.error_audio", reason=reason), **form)
    return RedirectResponse(
        f"/panel/announcements?created={created.id}&nodes={len(created.node_ids)}",
        status_code=303,
    )


def upload_error(page: Page, name: str, exc: AudioRejected | AudioToolError) -> str:
    """The operator's words for a refused upload (the English ``reason`` goes to the log)."""
    return page.t("upload.failed", name=name, reason=audio_words.audio_reason(page.t, exc))


@router.post("/upload")
async def upload(page: OperatorPage, file: Annotated[UploadFile, File()]) -> JSONResponse:
    """A recording (file or microphone), checked and loudness-normalised, ready to attach."""
    name = file.filename or "recording"

    def work() -> RenderedMedia:
        return import_recording(page.ctl, file.file, name, page.principal.username)

    try:
        media = await run_in_threadpool(work)
    except (AudioRejected, AudioToolError) as exc:
        return JSONResponse({"error": upload_error(page, name, exc)}, status_code=422)
    finally:
        await file.close()
    return JSONResponse(
        {
            "sha256": media.sha256,
            "ext": media.ext,
            "duration_s": media.duration_s,
            "url": f"/media/{media.filename}",
        }
    )


@router.get("/conflicts")
def conflicts(
    page: OperatorPage,
    targets: Annotated[list[str], Query()] = [],  # noqa: B006
    when: str = "now",
    at: str = "",
    duration_s: float = 60.0,
    priority: int = int(Priority.ANNOUNCEMENT),
    freq: str = "daily",
    weekdays: Annotated[list[str], Query()] = [],  # noqa: B006
    time_of_day: str = "",
    from_date: str = "",
    until: str = "",
    first_day: str = "",
) -> JSONResponse:
    """Overlaps before saving: one-off by time, recurring through the compiled calendar."""
    length = min(max(duration_s, 1), 86_400)
    try:
        if when == "recurring":
            form = recurrence.RecurringForm(
                freq, weekdays, time_of_day, from_date, until, first_day=bool(first_day)
            )
            _, rule = _recurring_rule(page, form)
            with page.ctl.sessions() as session:
                scope = page.scope(session)
            level = Priority(priority) if priority in set(PRIORITIES) else Priority.ANNOUNCEMENT
            clashes = clashes_q.recurring_clashes(page.ctl, scope, targets, rule, length, level)
            return JSONResponse({"conflicts": [_clash_json(page, c) for c in clashes]})
        lead = timedelta(seconds=page.ctl.settings.immediate_lead_s)
        start = _start(when, at) or page.ctl.clock.now() + lead
        with page.ctl.sessions() as session:
            scope = page.scope(session)
            found = announce.conflicts(session, scope, targets, start, length)
        # also against the whole calendar (recurring entries, slots): a one-off is a "once" rule
        local = start.astimezone(VIETNAM)
        once = {
            "freq": "once",
            "start_date": local.date().isoformat(),
            "time": local.time().replace(microsecond=0).isoformat(),
        }
        level = Priority(priority) if priority in set(PRIORITIES) else Priority.ANNOUNCEMENT
        clashes = clashes_q.recurring_clashes(page.ctl, scope, targets, once, length, level)
    except announce.ComposeError as exc:
        return JSONResponse({"error": _error_text(page, exc)}, status_code=422)
    listed = [_clash_json(page, c) for c in clashes]
    refs = {str(c["ref"]) for c in listed}
    listed += [
        {"id": a.id, "ref": f"ann-{a.id}", "title": a.title, "start": fmt_datetime(a.start)}
        for a in found
        if f"ann-{a.id}" not in refs
    ]
    return JSONResponse({"conflicts": listed})


def board_from_form(text: str, ticker: str, slides: str) -> VisualIn:
    """The e-board section of the form (slides: the JSON list the page keeps in a field)."""
    try:
        return VisualIn.model_validate(
            {"text": text.strip() or None, "ticker": ticker.strip() or None}
            | {"slides": json.loads(slides) if slides.strip() else []}
        )
    except (ValueError, ValidationError) as exc:
        raise announce.ComposeError("ann.error_board") from exc


def _clash_json(page: Page, clash: clashes_q.Clash) -> dict[str, object]:
    return {
        "ref": clash.other_entry,
        "title": clash.other_title,
        "start": fmt_datetime(clash.start),
        "nodes": list(clash.nodes),
        "note": page.t("ann.clash_loses" if clash.new_loses else "ann.clash_wins"),
    }


def _cancellable(page: Page, session: Session, ann_id: int) -> tuple[Announcement, list[str]]:
    """The announcement and the nodes it reaches; 404 when missing or outside the scope."""
    ann = session.get(Announcement, ann_id)
    if ann is None:
        raise PanelNotFound(str(ann_id))
    zone_ids = [t.zone_id for t in ann.targets if t.zone_id]
    node_ids = [t.node_id for t in ann.targets if t.node_id]
    if not page.scope(session).allows_targets(zone_ids, node_ids):
        raise PanelNotFound(str(ann_id))
    return ann, sorted(nodes_reached(session, ZoneTree.load(session), zone_ids, node_ids))


@router.get("/{ann_id}/cancel")
def cancel_confirm(page: OperatorPage, ann_id: int) -> HTMLResponse:
    """The confirmation step: what will stop, where, and a button that really cancels."""
    now = page.ctl.clock.now()
    with page.ctl.sessions() as session:
        ann, nodes = _cancellable(page, session, ann_id)
        zone_names = target_tree.target_names(session, ann)
        refused = _refusal(page, ann, now)
        return page.render(
            "announcement_cancel.html",
            409 if refused else 200,
            ann=ann,
            node_count=len(nodes),
            targets=zone_names,
            refused=refused,
        )


def _refusal(page: Page, ann: Announcement, now: datetime) -> str:
    if ann.cancelled_at is not None:
        return page.t("ann.cancel_already")
    if ann_q.aired(ann, now):
        return page.t("ann.cancel_played")
    return ""


@router.post("/{ann_id}/cancel")
def cancel(
    page: OperatorPage, ann_id: int, confirm: Annotated[str, Form(max_length=8)] = ""
) -> Response:
    if confirm != "yes":  # a bare POST (old page, hand-made request) gets the question first
        return RedirectResponse(f"/panel/announcements/{ann_id}/cancel", 303)
    now = page.ctl.clock.now()
    with page.ctl.sessions() as session:
        ann, nodes = _cancellable(page, session, ann_id)
        if _refusal(page, ann, now):
            return cancel_confirm(page, ann_id)
        ann.cancelled_at = now
        page.audit(session, "announcement.cancel", f"announcement:{ann_id}", ann.title[:200])
        session.commit()
    page.ctl.publisher.refresh(nodes)
    return RedirectResponse(f"/panel/announcements?cancelled={quote(str(ann_id))}", 303)


@router.post("/{ann_id}/internal")
def set_internal(
    page: OperatorPage, ann_id: int, internal: Annotated[str, Form(max_length=1)] = ""
) -> Response:
    """Keep an announcement off the citizens' replay (``internal=1``) or make it public again."""
    with page.ctl.sessions() as session:
        ann, _nodes = _cancellable(page, session, ann_id)
        ann.internal = internal == "1"
        action = "announcement.internal" if ann.internal else "announcement.public"
        page.audit(session, action, f"announcement:{ann_id}", ann.title[:200])
        session.commit()
    return RedirectResponse("/panel/announcements", 303)
