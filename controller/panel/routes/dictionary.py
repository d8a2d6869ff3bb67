"""The pronunciation dictionary page: operators add words with how they are read, for
their commune (admins also for a province), and listen to a sample sentence first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from controller.db.models import Pronunciation, Zone
from controller.panel import audio_words
from controller.panel.page import OperatorPage, Page, PanelNotFound
from controller.services.pronunciation import PronunciationError, add_entry, all_entries
from controller.services.zones import ZoneTree

router = APIRouter(prefix="/panel/dictionary", include_in_schema=False)


def _render(page: Page, status_code: int = 200, message: str = "", error: str = "") -> Response:
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        zones = [
            z
            for z in session.scalars(select(Zone).order_by(Zone.parent_id.is_not(None), Zone.name))
            if scope.allows_zone(z.id)
        ]
        tree = ZoneTree.load(session)
        visible = (
            None
            if scope.everything
            else {a for z in scope.zone_ids for a in tree.ancestors_and_self(z)}
        )
        names = {z.id: z.name for z in session.scalars(select(Zone))}
        entries = [
            (e, scope.allows_zone(e.scope_zone_id))
            for e in all_entries(session)
            if visible is None or e.scope_zone_id in visible
        ]
    return page.render(
        "dictionary.html",
        status_code,
        zones=zones,
        names=names,
        entries=entries,
        message=message,
        error=error,
        engines=audio_words.engine_names(page.t, page.ctl.settings.tts_engine_order),
    )


@router.get("")
def dictionary_page(page: OperatorPage) -> Response:
    return _render(page)


@router.post("")
def add(
    page: OperatorPage,
    written: Annotated[str, Form(max_length=100)],
    spoken: Annotated[str, Form(max_length=300)],
    zone_id: Annotated[str, Form(max_length=64)],
) -> Response:
    try:
        with page.ctl.sessions.begin() as session:
            if not page.scope(session).allows_zone(zone_id):
                return _render(page, 403, error=page.t("dict.error", reason=page.t("dict.scope")))
            row = add_entry(
                session,
                written=written,
                spoken=spoken,
                zone_id=zone_id,
                who=page.principal.username,
                now=page.ctl.clock.now(),
            )
            page.audit(session, "pronunciation.add", f"{zone_id}:{row.written}", row.spoken)
            written = row.written
    except PronunciationError:
        return _render(page, 422, error=page.t("dict.error", reason=page.t("dict.invalid")))
    return _render(page, message=page.t("dict.added", written=written))


@router.post("/{entry_id}/delete")
def delete(page: OperatorPage, entry_id: int) -> Response:
    with page.ctl.sessions.begin() as session:
        row = session.get(Pronunciation, entry_id)
        if row is None or not page.scope(session).allows_zone(row.scope_zone_id):
            raise PanelNotFound(str(entry_id))
        page.audit(
            session, "pronunciation.delete", f"{row.scope_zone_id}:{row.written}", row.spoken
        )
        session.delete(row)
    return RedirectResponse("/panel/dictionary", status_code=303)
