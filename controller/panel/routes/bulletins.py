"""Gửi bản tin: the province/district user's form to send a bulletin to communes below it.

Only users whose scope lies above some commune may open it (a commune operator gets 403).
The form calls the same service as ``POST /api/v1/bulletins`` (``sender_request`` then
``publish_bulletin``). An emergency is confirmed twice, exactly like the emergency page: the
first POST shows what would happen with a one-time token bound to that content, only the
second POST with the token sends it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from controller.panel.confirm_token import content_digest
from controller.panel.page import OperatorPage, Page, PanelForbidden
from controller.panel.queries import recordings as recordings_q
from controller.panel.state import panel_state
from controller.services.bulletin_rules import LEVELS
from controller.services.bulletins import (
    BulletinError,
    BulletinRequest,
    NotASender,
    publish_bulletin,
    sendable_communes,
    sender_request,
)
from controller.services.emergency import EmergencyError

router = APIRouter(prefix="/panel/bulletins", include_in_schema=False)
SEND = "bulletin.create"


class BulletinForm(BaseModel):
    """The posted fields, unchecked (the service checks them)."""

    model_config = ConfigDict(frozen=True)

    level: str = Field("normal", max_length=20)
    title: str = Field("", max_length=500)
    text: str = Field("", max_length=10_000)
    media_sha256: str = Field("", max_length=64)
    communes: tuple[str, ...] = ()

    def fields(self) -> dict[str, object]:
        """What an emergency's confirmation token is bound to."""
        return {
            "level": self.level,
            "title": self.title.strip(),
            "text": self.text.strip(),
            "media_sha256": self.media_sha256,
            "communes": sorted(set(self.communes)),
        }


PostedForm = Annotated[BulletinForm, Form()]
Token = Annotated[str, Form(max_length=2000)]


def _communes(page: Page) -> list[tuple[str, str]]:
    """The communes this user may send to; none at all: the page is not for them (403)."""
    with page.ctl.sessions() as session:
        found = sendable_communes(session, page.scope(session), page.principal.communes)
    if not found:
        raise PanelForbidden("error.scope")
    return found


def _form_page(
    page: Page, status_code: int = 200, error: str = "", form: BulletinForm | None = None
) -> HTMLResponse:
    communes = _communes(page)
    with page.ctl.sessions() as session:
        recordings = recordings_q.recordings(session, page.scope(session))
    return page.render(
        "bulletin_new.html",
        status_code,
        form=form or BulletinForm(),
        communes=communes,
        recordings=recordings,
        levels=LEVELS,
        error=error,
    )


@router.get("/new")
def new_bulletin(page: OperatorPage) -> HTMLResponse:
    return _form_page(page)


def _request(page: Page, form: BulletinForm) -> BulletinRequest:
    fields = form.fields()
    with page.ctl.sessions() as session:
        try:
            return sender_request(
                session,
                page.scope(session),
                page.principal.communes,
                level=str(fields["level"]),
                communes=list(form.communes),
                text=str(fields["text"]) or None,
                media_sha256=str(fields["media_sha256"]) or None,
                title=str(fields["title"]) or None,
            )
        except NotASender:
            raise PanelForbidden("error.scope") from None


@router.post("")
async def send(page: OperatorPage, form: PostedForm, token: Token = "") -> Response:
    """Check, then send; an emergency first shows its confirmation page (two steps)."""
    _communes(page)
    try:
        if not form.communes:
            raise BulletinError(page.t("bulletin.need_communes"))
        req = _request(page, form)
        if req.level not in LEVELS:
            raise BulletinError(f"level: one of {', '.join(LEVELS)}")
        if bool(req.text) == bool(req.media_sha256):
            raise BulletinError(page.t("bulletin.need_content"))
    except BulletinError as exc:
        return _form_page(page, 422, str(exc), form)
    assert page.identity is not None
    nonce, now = page.identity.session.nonce, page.ctl.clock.now()
    confirmations = panel_state(page.request).confirmations
    digest = content_digest(SEND, form.fields())
    if req.level == "emergency" and not token:
        return _confirm_page(page, form, req, confirmations.issue(nonce, digest, now))
    if req.level == "emergency" and not confirmations.redeem(token, nonce, digest, now):
        return _form_page(page, 400, page.t("emg.error_token"), form)
    try:
        bulletin_id = await run_in_threadpool(
            publish_bulletin, page.ctl, req, page.principal.username
        )
    except (BulletinError, EmergencyError) as exc:
        return _form_page(page, 422, str(exc), form)
    except (AudioRejected, AudioToolError, SynthesisFailed) as exc:
        return _form_page(page, 422, page.t("emg.error_service", reason=exc.reason), form)
    with page.ctl.sessions.begin() as session:
        page.audit(
            session,
            SEND,
            f"bulletin:{bulletin_id}",
            f"level={req.level} communes={','.join(req.communes)}",
        )
    return RedirectResponse("/panel/inbox?done=sent", status_code=303)


def _confirm_page(page: Page, form: BulletinForm, req: BulletinRequest, token: str) -> HTMLResponse:
    names = dict(_communes(page))
    context: dict[str, Any] = {
        "form": form,
        "req": req,
        "token": token,
        "names": [names.get(c, c) for c in req.communes],
    }
    return page.render("bulletin_confirm.html", **context)
