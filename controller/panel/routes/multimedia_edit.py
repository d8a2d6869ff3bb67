"""Changing an announcement's multimedia after it was sent: its e-board content and its
recordings in other languages; and which languages a zone airs, in order.

Operators of the commune only (another commune's items are "not found"); every change is
audited, and an announcement's change sends it back through approval like a text edit.
The same services as the JSON API (``visual.replace_visual``,
``multilingual.replace_variant``, ``multilingual.set_zone_languages``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from audio.errors import AudioRejected, AudioToolError
from controller.db.models import Announcement, Zone
from controller.panel import announce
from controller.panel.page import OperatorPage, Page, PanelNotFound
from controller.panel.routes.announcements import board_from_form, upload_error
from controller.panel.routes.approvals import held_announcement
from controller.services import multilingual, visual
from controller.services.announcements import announcement_targets
from controller.services.approvals import apply
from controller.services.recordings import import_recording
from controller.services.zones import ZoneTree, nodes_reached

router = APIRouter(prefix="/panel", include_in_schema=False)
_MAX_ORDER = 4
"""Language slots on the zone form (a zone airing more than four languages is unheard of)."""


def _edited(page: Page, session: Session, ann: Announcement, detail: str) -> None:
    """Back through approval, audited, committed and published."""
    apply(ann, "edit", page.principal.username, page.ctl.clock.now())
    page.audit(session, "announcement.edit", f"announcement:{ann.id}", detail)
    session.commit()
    page.ctl.publisher.refresh()


# -- e-board content -------------------------------------------------------------------


def _board_page(
    page: Page, ann: Announcement, status_code: int = 200, error: str = "", saved: bool = False
) -> HTMLResponse:
    shown = ann.visual or {}
    slides = [
        {"sha256": s["image"]["sha256"], "ext": s["image"]["ext"], "duration_s": s["duration_s"]}
        for s in shown.get("slides", [])
    ]
    form = {
        "board_on": ann.visual is not None,
        "board_text": shown.get("text", "") if shown.get("text") != (ann.text or "") else "",
        "board_ticker": shown.get("ticker", ""),
    }
    return page.render(
        "announcement_board.html",
        status_code,
        ann=ann,
        form=form,
        board_slides=slides,
        error=error,
        saved=saved,
    )


@router.get("/announcements/{announcement_id}/board")
def board_edit_page(page: OperatorPage, announcement_id: int, saved: int = 0) -> HTMLResponse:
    with page.ctl.sessions() as session:
        return _board_page(
            page, held_announcement(page, session, announcement_id), saved=bool(saved)
        )


@router.post("/announcements/{announcement_id}/board")
def board_edit(
    page: OperatorPage,
    announcement_id: int,
    board_on: Annotated[str, Form(max_length=1)] = "",
    board_text: Annotated[str, Form(max_length=2000)] = "",
    board_ticker: Annotated[str, Form(max_length=500)] = "",
    board_slides: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    with page.ctl.sessions() as session:
        ann = held_announcement(page, session, announcement_id)
        try:
            body = board_from_form(board_text, board_ticker, board_slides)
            visual.replace_visual(session, ann, body if board_on == "1" else None)
        except announce.ComposeError as exc:
            return _board_page(page, ann, 422, page.t(exc.key))
        except visual.ImageRejected:
            session.rollback()
            return _board_page(page, ann, 422, page.t("ann.error_board"))
        slides = len(ann.visual["slides"]) if ann.visual else 0
        _edited(page, session, ann, f"changed=visual slides={slides}")
    return RedirectResponse(f"/panel/announcements/{announcement_id}/board?saved=1", 303)


# -- recordings in other languages --------------------------------------------------------


def _languages_page(
    page: Page, ann: Announcement, status_code: int = 200, error: str = "", saved: str = ""
) -> HTMLResponse:
    return page.render(
        "announcement_languages.html",
        status_code,
        ann=ann,
        recordings=[("vi", ann.media)] + [(v.language, v.media) for v in ann.variants],
        others=[code for code in multilingual.LANGUAGES if code != multilingual.VIETNAMESE],
        error=error,
        saved=saved,
    )


@router.get("/announcements/{announcement_id}/languages")
def languages_page(page: OperatorPage, announcement_id: int, saved: str = "") -> HTMLResponse:
    with page.ctl.sessions() as session:
        ann = held_announcement(page, session, announcement_id)
        return _languages_page(page, ann, saved=saved if saved in multilingual.LANGUAGES else "")


@router.post("/announcements/{announcement_id}/languages")
async def add_language(
    page: OperatorPage,
    announcement_id: int,
    language: Annotated[str, Form(max_length=8)] = "",
    text: Annotated[str, Form(max_length=20_000)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """One language's recording: checked and normalised like any upload, joined with the
    others in every order the reached nodes air."""
    name = (file.filename if file else None) or "recording"

    def work() -> Response:
        with page.ctl.sessions() as session:
            ann = held_announcement(page, session, announcement_id)
            if language not in multilingual.LANGUAGES or language == multilingual.VIETNAMESE:
                return _languages_page(page, ann, 422, page.t("langs.error_language"))
            if file is None or not file.filename:
                return _languages_page(page, ann, 422, page.t("langs.error_file"))
            try:
                rendered = import_recording(page.ctl, file.file, name, page.principal.username)
                zones, nodes = announcement_targets(ann)
                reached = nodes_reached(session, ZoneTree.load(session), zones, nodes)
                variant = (language, rendered.sha256, text.strip() or None)
                now = page.ctl.clock.now()
                multilingual.replace_variant(session, page.ctl.renderer, ann, variant, reached, now)
            except (AudioRejected, AudioToolError) as exc:
                session.rollback()
                return _languages_page(page, ann, 422, upload_error(page, name, exc))
            except multilingual.VariantError as exc:
                session.rollback()
                return _languages_page(page, ann, 422, str(exc))
            _edited(page, session, ann, f"changed=variant language={language}")
        return RedirectResponse(
            f"/panel/announcements/{announcement_id}/languages?saved={language}", 303
        )

    try:
        return await run_in_threadpool(work)
    finally:
        if file is not None:
            await file.close()


# -- a zone's languages --------------------------------------------------------------------


def _zone(page: Page, session: Session, zone_id: str) -> Zone:
    zone = session.get(Zone, zone_id)
    if zone is None or not page.scope(session).allows_zone(zone_id):
        raise PanelNotFound(f"zone {zone_id}")
    return zone


def _zone_page(
    page: Page,
    session: Session,
    zone: Zone,
    status_code: int = 200,
    error: str = "",
    saved: bool = False,
) -> HTMLResponse:
    effective = multilingual.zone_orders(session, ZoneTree.load(session)).get(zone.id, ())
    order = list(zone.languages or [])
    return page.render(
        "zone_languages.html",
        status_code,
        zone=zone,
        slots=[order[i] if i < len(order) else "" for i in range(_MAX_ORDER)],
        inherit=zone.languages is None,
        effective=effective or multilingual.DEFAULT_ORDER,
        codes=multilingual.LANGUAGES,
        error=error,
        saved=saved,
    )


@router.get("/zones/{zone_id}/languages")
def zone_languages_page(page: OperatorPage, zone_id: str, saved: int = 0) -> HTMLResponse:
    with page.ctl.sessions() as session:
        return _zone_page(page, session, _zone(page, session, zone_id), saved=bool(saved))


@router.post("/zones/{zone_id}/languages")
async def set_zone_languages(
    page: OperatorPage,
    zone_id: str,
    inherit: Annotated[str, Form(max_length=1)] = "",
    lang: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads, never mutates
) -> Response:
    """The languages in airing order (empty slots skipped), or inherit from the zone above."""
    codes = None if inherit == "1" else [c for c in lang[:_MAX_ORDER] if c]

    def work() -> Response:
        with page.ctl.sessions() as session:
            zone = _zone(page, session, zone_id)
            try:
                if codes == []:
                    raise multilingual.LanguageError("no language")
                multilingual.set_zone_languages(
                    session, page.ctl.renderer, zone, codes, page.ctl.clock.now()
                )
            except multilingual.LanguageError:
                session.rollback()
                return _zone_page(page, session, zone, 422, page.t("langs.error_order"))
            except AudioToolError as exc:
                session.rollback()
                return _zone_page(
                    page, session, zone, 503, page.t("langs.error_join", reason=str(exc))
                )
            detail = ",".join(zone.languages or []) or "inherit"
            page.audit(session, "zone.languages", f"zone:{zone_id}", detail)
            session.commit()
        page.ctl.publisher.refresh()
        return RedirectResponse(f"/panel/zones/{zone_id}/languages?saved=1", 303)

    return await run_in_threadpool(work)
