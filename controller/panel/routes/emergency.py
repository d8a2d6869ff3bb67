"""The emergency page: follow emergencies node by node; issue and cancel them, confirmed twice.

Issuing or cancelling is two POSTs. The first only checks the form and shows what would
happen (zones, node count, text) with a one-time token bound to the user's session and to
that exact content; only the second POST, carrying the token, calls the service. Viewers
read the page (no controls, 403 on every POST); a zone outside an operator's communes is
403, an emergency outside them 404. Every issue and cancel is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from controller.auth.principal import Role
from controller.panel import emergency_form
from controller.panel.confirm_token import content_digest
from controller.panel.emergency_form import EmergencyForm, FormRefused, OutsideScope
from controller.panel.page import OperatorPage, Page, PanelForbidden, PanelNotFound, ViewerPage
from controller.panel.queries import emergencies as emg_q
from controller.panel.queries import nodes as node_q
from controller.panel.queries import recordings as recordings_q
from controller.panel.state import panel_state
from controller.services.emergency import (
    EmergencyError,
    EmergencyNotFound,
    cancel_emergency,
    issue_emergency,
)

router = APIRouter(prefix="/panel/emergency", include_in_schema=False)
ISSUE, CANCEL = "emergency.issue", "emergency.cancel"

PostedForm = Annotated[EmergencyForm, Form()]
Token = Annotated[str, Form(max_length=2000)]


def _list_data(page: Page) -> dict[str, Any]:
    now = page.ctl.clock.now()
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        items = emg_q.recent(session, scope, now)
        operator = page.can(Role.OPERATOR)
        zones = node_q.zones_in_scope(session, scope) if operator else []
        recordings = recordings_q.recordings(session, scope) if operator else []
    return {
        "items": items,
        "zone_rows": emergency_form.zone_rows(zones),
        "recordings": recordings,
        "states": emg_q.STATES,
        "now": now,
    }


def _list(
    page: Page, status_code: int = 200, error: str = "", form: EmergencyForm | None = None
) -> HTMLResponse:
    return page.render(
        "emergency.html",
        status_code,
        error=error,
        form=form or EmergencyForm(),
        can_issue=page.can(Role.OPERATOR),
        **_list_data(page),
    )


@router.get("")
def emergency_page(page: ViewerPage) -> HTMLResponse:
    return _list(page)


@router.get("/live")
def emergency_live(page: ViewerPage) -> HTMLResponse:
    return page.render("emergency_live.html", **_list_data(page))


def _detail_data(page: Page, emergency_id: str) -> dict[str, Any]:
    with page.ctl.sessions() as session:
        found = emg_q.one(session, page.scope(session), emergency_id, page.ctl.clock.now())
    if found is None:
        raise PanelNotFound(emergency_id)
    return {"e": found, "states": emg_q.STATES}


@router.get("/{emergency_id}")
def detail_page(page: ViewerPage, emergency_id: str) -> HTMLResponse:
    data = _detail_data(page, emergency_id)
    return page.render("emergency_detail.html", can_cancel=page.can(Role.OPERATOR), **data)


@router.get("/{emergency_id}/live")
def detail_live(page: ViewerPage, emergency_id: str) -> HTMLResponse:
    return page.render("emergency_nodes.html", **_detail_data(page, emergency_id))


def _check(page: Page, form: EmergencyForm) -> emergency_form.Checked:
    with page.ctl.sessions() as session:
        try:
            return emergency_form.check(session, page.scope(session), form, page.ctl.clock.now())
        except OutsideScope:
            raise PanelForbidden("error.scope") from None


def _refused(page: Page, exc: FormRefused, form: EmergencyForm) -> HTMLResponse:
    text = page.t(exc.key)
    return _list(page, 422, f"{text} ({exc.reason})" if exc.reason else text, form)


def _nonce(page: Page) -> str:
    assert page.identity is not None
    return page.identity.session.nonce


@router.post("/confirm")
def confirm_issue(page: OperatorPage, form: PostedForm) -> HTMLResponse:
    """First POST: check and summarise, issue nothing; hand out the one-time token."""
    try:
        checked = _check(page, form)
    except FormRefused as exc:
        return _refused(page, exc, form)
    token = panel_state(page.request).confirmations.issue(
        _nonce(page), content_digest(ISSUE, form.fields()), page.ctl.clock.now()
    )
    recording = None
    if checked.request.media_sha256:
        with page.ctl.sessions() as session:
            scope = page.scope(session)
            recording = recordings_q.recording(session, scope, checked.request.media_sha256)
    return page.render(
        "emergency_confirm.html", form=form, checked=checked, token=token, recording=recording
    )


@router.post("")
async def issue(page: OperatorPage, form: PostedForm, token: Token = "") -> Response:
    """Second POST: only with the token of the confirmation page for this exact content."""
    try:
        checked = _check(page, form)
    except FormRefused as exc:
        return _refused(page, exc, form)
    digest = content_digest(ISSUE, form.fields())
    now = page.ctl.clock.now()
    if not panel_state(page.request).confirmations.redeem(token, _nonce(page), digest, now):
        return _list(page, 400, page.t("emg.error_token"), form)
    who = page.principal.username
    try:
        view = await run_in_threadpool(issue_emergency, page.ctl, checked.request, who)
    except EmergencyError as exc:
        return _list(page, 422, page.t("emg.error_service", reason=str(exc)), form)
    except (AudioRejected, AudioToolError, SynthesisFailed) as exc:
        return _list(page, 422, page.t("emg.error_service", reason=exc.reason), form)
    with page.ctl.sessions.begin() as session:
        page.audit(
            session,
            ISSUE,
            f"emergency:{view.row.id}",
            f"zones={','.join(view.row.zone_ids)} nodes={len(view.nodes)} "
            f"repeat={form.repeat} every_min={form.every_min} until={form.until} "
            + (f"media={form.media_sha256}" if form.media_sha256 else f"text={form.text[:200]}"),
        )
    return RedirectResponse(f"/panel/emergency/{view.row.id}", status_code=303)


@router.post("/{emergency_id}/cancel/confirm")
def confirm_cancel(page: OperatorPage, emergency_id: str) -> HTMLResponse:
    data = _detail_data(page, emergency_id)
    _require_zones(page, data["e"].row.zone_ids)
    token = panel_state(page.request).confirmations.issue(
        _nonce(page), content_digest(CANCEL, {"id": emergency_id}), page.ctl.clock.now()
    )
    return page.render("emergency_cancel.html", token=token, **data)


@router.post("/{emergency_id}/cancel")
async def cancel(page: OperatorPage, emergency_id: str, token: Token = "") -> Response:
    data = _detail_data(page, emergency_id)
    _require_zones(page, data["e"].row.zone_ids)
    digest = content_digest(CANCEL, {"id": emergency_id})
    now = page.ctl.clock.now()
    if not panel_state(page.request).confirmations.redeem(token, _nonce(page), digest, now):
        return page.render(
            "emergency_detail.html", 400, can_cancel=True, error=page.t("emg.error_token"), **data
        )
    try:
        await run_in_threadpool(cancel_emergency, page.ctl, emergency_id, page.principal.username)
    except EmergencyNotFound:
        raise PanelNotFound(emergency_id) from None
    with page.ctl.sessions.begin() as session:
        page.audit(session, CANCEL, f"emergency:{emergency_id}", data["e"].row.title[:200])
    return RedirectResponse(f"/panel/emergency/{emergency_id}", status_code=303)


def _require_zones(page: Page, zone_ids: list[str]) -> None:
    """Cancelling stops the emergency everywhere, so every one of its zones must be yours."""
    with page.ctl.sessions() as session:
        if not page.scope(session).allows_targets(list(zone_ids), []):
            raise PanelForbidden("error.scope")
