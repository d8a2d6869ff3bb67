"""Relays in the panel: the list of live stream entries (e.g. VOV1 06:00-06:30 daily) and a
form to create or edit one, with an optional fallback recording played when the stream
cannot be reached. The same checks as ``/api/v1/schedules`` (``controller.panel.relays``)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from audio.errors import AudioRejected, AudioToolError
from controller.db.models import ScheduleEntryRow
from controller.panel import vn_dates
from controller.panel.page import OperatorPage, Page, PanelNotFound, ViewerPage
from controller.panel.queries import nodes as q
from controller.panel.relays import (
    WEEKDAYS,
    RelayForm,
    RelayFormError,
    form_of,
    relay_rows,
    save_relay,
)
from controller.panel.timefmt import today_local
from controller.services.recordings import import_recording
from schedules.millis import to_ms

router = APIRouter(prefix="/panel/relays", include_in_schema=False)


def _render(
    page: Page,
    status_code: int = 200,
    form: RelayForm | None = None,
    entry_id: str = "",
    error: str = "",
    saved: str = "",
) -> Response:
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        rows = relay_rows(session, scope)
        zones = q.zones_in_scope(session, scope)
    return page.render(
        "relays.html",
        status_code,
        rows=rows,
        zones=zones,
        zone_names={z.id: z.name for z in zones},  # the table names zones, not their ids
        form=form,
        entry_id=entry_id,
        error=error,
        saved=saved,
        weekdays=WEEKDAYS,
    )


def _blank(page: Page) -> RelayForm:
    today = vn_dates.fmt_date(today_local(page.ctl.clock.now()))
    return RelayForm("", "", [], "06:00", 30, [], today)


@router.get("")
def relays_page(page: ViewerPage, saved: str = "") -> Response:
    return _render(page, saved=saved[:64])


@router.get("/new")
def new_relay(page: OperatorPage) -> Response:
    return _render(page, form=_blank(page))


def _editable(page: Page, entry_id: str) -> ScheduleEntryRow:
    with page.ctl.sessions() as session:
        row = session.get(ScheduleEntryRow, entry_id)
        scope = page.scope(session)
        if (
            row is None
            or row.cancelled_at is not None
            or row.spec.get("kind") != "stream"
            or not scope.allows_targets(form_of(row).zones, [])
        ):
            raise PanelNotFound(entry_id)
        return row


@router.get("/{entry_id}")
def edit_relay(page: OperatorPage, entry_id: str) -> Response:
    return _render(page, form=form_of(_editable(page, entry_id)), entry_id=entry_id)


def _slug(title: str) -> str:
    text = title.replace("Đ", "D").replace("đ", "d")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:30].strip("-") or "relay"


async def _fallback(page: Page, upload: UploadFile | None, current: str) -> str:
    """The fallback recording's hash: a new upload (checked, normalised, stored) or the old."""
    if upload is None or not upload.filename:
        return current

    def work() -> str:
        owner = page.principal.username
        return import_recording(page.ctl, upload.file, upload.filename or "fallback", owner).sha256

    try:
        return await run_in_threadpool(work)
    except (AudioRejected, AudioToolError) as exc:
        raise RelayFormError("relay.error_fallback", exc.reason) from None
    finally:
        await upload.close()


async def _save(page: Page, form: RelayForm, entry_id: str, upload: UploadFile | None) -> Response:
    try:
        form = RelayForm(
            **{
                **form.__dict__,
                "fallback_sha256": await _fallback(page, upload, form.fallback_sha256),
            }
        )

        def work() -> None:
            now = page.ctl.clock.now()
            with page.ctl.sessions() as session:
                scope = page.scope(session)
                save_relay(session, scope, form, entry_id, now, page.principal.username)
                page.audit(session, "relay.save", f"schedule:{entry_id}", form.title[:150])
                session.commit()

        await run_in_threadpool(work)
    except RelayFormError as exc:
        text = page.t(exc.key, reason=exc.reason, value=exc.reason)
        text = f"{text} ({exc.reason})" if exc.reason and exc.reason not in text else text
        return _render(page, 422, form=form, entry_id=entry_id, error=text)
    await run_in_threadpool(page.ctl.publisher.refresh)
    return RedirectResponse(f"/panel/relays?saved={entry_id}", status_code=303)


def _form(
    title: str, stream_url: str, zones: list[str], time_of_day: str, minutes: int,
    weekdays: list[str], start_date: str, fallback_sha256: str,
) -> RelayForm:  # fmt: skip
    return RelayForm(
        title.strip(), stream_url.strip(), zones, time_of_day, minutes, weekdays, start_date,
        fallback_sha256 if re.fullmatch(r"[0-9a-f]{64}", fallback_sha256) else "",
    )  # fmt: skip


@router.post("")
async def create_relay(
    page: OperatorPage,
    title: Annotated[str, Form(max_length=500)],
    stream_url: Annotated[str, Form(max_length=2000)],
    time_of_day: Annotated[str, Form(max_length=8)],
    minutes: Annotated[int, Form(ge=1, le=24 * 60)],
    start_date: Annotated[str, Form(max_length=10)],
    zones: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads, never mutates
    weekdays: Annotated[list[str], Form()] = [],  # noqa: B006
    fallback: Annotated[UploadFile | None, File()] = None,
) -> Response:
    form = _form(title, stream_url, zones, time_of_day, minutes, weekdays, start_date, "")
    entry_id = f"relay-{_slug(title)}-{to_ms(page.ctl.clock.now()) % 10**8:x}"
    return await _save(page, form, entry_id, fallback)


@router.post("/{entry_id}")
async def update_relay(
    page: OperatorPage,
    entry_id: str,
    title: Annotated[str, Form(max_length=500)],
    stream_url: Annotated[str, Form(max_length=2000)],
    time_of_day: Annotated[str, Form(max_length=8)],
    minutes: Annotated[int, Form(ge=1, le=24 * 60)],
    start_date: Annotated[str, Form(max_length=10)],
    zones: Annotated[list[str], Form()] = [],  # noqa: B006
    weekdays: Annotated[list[str], Form()] = [],  # noqa: B006
    fallback_sha256: Annotated[str, Form(max_length=64)] = "",
    fallback: Annotated[UploadFile | None, File()] = None,
) -> Response:
    _editable(page, entry_id)
    form = _form(
        title, stream_url, zones, time_of_day, minutes, weekdays, start_date, fallback_sha256
    )
    return await _save(page, form, entry_id, fallback)


@router.post("/{entry_id}/cancel")
async def cancel_relay(page: OperatorPage, entry_id: str) -> Response:
    _editable(page, entry_id)

    def work() -> None:
        with page.ctl.sessions.begin() as session:
            row = session.get(ScheduleEntryRow, entry_id)
            assert row is not None
            row.cancelled_at = page.ctl.clock.now()
            page.audit(session, "relay.cancel", f"schedule:{entry_id}", row.title[:150])

    await run_in_threadpool(work)
    await run_in_threadpool(page.ctl.publisher.refresh)
    return RedirectResponse("/panel/relays", status_code=303)
