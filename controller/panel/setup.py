"""The panel's part of ``create_app``: ``install`` (static files, error pages, the session
cookie as a way to identify callers) when the app is made, ``start`` (cookie key, login
limiter from the controller's own clock, first admin) inside the lifespan once the
controller is built. Nothing happens at import.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from controller.api.deps import PrincipalResolver
from controller.auth.rate_limit import LoginRateLimiter
from controller.auth.secret_key import load_or_create_key
from controller.auth.session_cookie import SessionSigner
from controller.auth.users import ensure_first_admin
from controller.config import ControllerSettings
from controller.panel.confirm_token import ConfirmationTokens
from controller.panel.identity import cookie_principal
from controller.panel.page import (
    LoginRequired,
    PanelForbidden,
    PanelNotFound,
    PasswordChangeRequired,
    public_page,
)
from controller.panel.state import PanelState
from controller.services.container import Controller

log = logging.getLogger("loa.panel")
STATIC = Path(__file__).parent / "static"


def build_state(settings: ControllerSettings, ctl: Controller) -> PanelState:
    key = load_or_create_key(settings.resolved_panel_session_key_path)
    return PanelState(
        SessionSigner(key, timedelta(hours=settings.panel_session_hours)),
        LoginRateLimiter(
            ctl.clock,
            settings.panel_login_max_failures,
            settings.panel_login_window_s,
            max_delay_s=settings.panel_login_max_delay_s,
            max_entries=settings.panel_login_tracked_max,
        ),
        settings.panel_secure_cookies,
        ConfirmationTokens(key),
    )


def create_first_admin(ctl: Controller) -> None:
    with ctl.sessions.begin() as session:
        password = ensure_first_admin(session, ctl.clock.now())
    if password is not None:
        # Shown once: the admin must change it at first login.
        log.warning(
            "no panel users yet: created user 'admin' with password %s (change it at first login)",
            password,
        )


def _error_page(request: Request, status_code: int, key: str) -> HTMLResponse:
    page = public_page(request)
    return page.render("error.html", status_code, message=page.t(key))


# Form fields by their label in the catalogue, for "the form data is not valid" messages.
FIELD_LABELS = {
    "text": "ann.text",
    "title": "ann.heading",
    "at": "ann.at",
    "priority": "ann.priority",
    "time_of_day": "ann.time_of_day",
    "from_date": "ann.from_date",
    "until": "ann.until",
    "file": "ann.file",
    "volume": "nodes.volume",
    "written": "dict.written",
    "spoken": "dict.spoken",
    "new_time": "sched.new_time",
    "new_date": "sched.new_date",
    "username": "login.username",
    "password": "login.password",
}


def _is_panel(request: Request) -> bool:
    return request.url.path == "/panel" or request.url.path.startswith("/panel/")


def _invalid_form(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's English validation list, as one Vietnamese (or English) sentence that
    names the fields by their labels: an HTML page for a form, JSON for a script."""
    page = public_page(request)
    fields: list[str] = []
    for error in exc.errors():
        name = str(error.get("loc", ("",))[-1])
        label = FIELD_LABELS.get(name)
        text = page.t("error.invalid_field", field=page.t(label)) if label else ""
        if text and text not in fields:
            fields.append(text)
    message = page.t("error.invalid_form", fields=", ".join(fields) or page.t("error.invalid_any"))
    if "text/html" in request.headers.get("accept", ""):
        return page.render("error.html", 422, message=message)
    return JSONResponse({"error": message}, status_code=422)


def _add_handlers(app: FastAPI) -> None:
    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/panel/login?next={quote(exc.next_url)}", status_code=303)

    async def change_password(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/panel/password", status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PanelForbidden)
        return _error_page(request, 403, exc.reason_key)

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error_page(request, 404, "error.not_found")

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not _is_panel(request):
            return await request_validation_exception_handler(request, exc)
        return _invalid_form(request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if _is_panel(request) and exc.status_code in (404, 405):
            return _error_page(request, exc.status_code, "error.not_found")
        return await http_exception_handler(request, exc)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PasswordChangeRequired, change_password)
    app.add_exception_handler(PanelForbidden, forbidden)
    app.add_exception_handler(PanelNotFound, not_found)


def install(app: FastAPI) -> list[PrincipalResolver]:
    """Static files and error pages; returns the panel's way to identify a caller."""
    app.mount("/panel/static", StaticFiles(directory=STATIC), name="panel-static")
    _add_handlers(app)
    return [cookie_principal]


def start(app: FastAPI, settings: ControllerSettings, ctl: Controller) -> None:
    """Once the controller is built: the panel's state, and a first admin if none exists."""
    app.state.panel = build_state(settings, ctl)
    create_first_admin(ctl)
