"""Hooked into ``create_app``: static files, the session resolver, error pages, first admin.

Runs at app creation (nothing at import). The cookie key and login limiter are built when
the controller starts, inside the lifespan, from the controller's own clock.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from controller.api import deps
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


def _wrap_lifespan(app: FastAPI, settings: ControllerSettings) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        context: AbstractAsyncContextManager[Any] = inner(app_)
        async with context as value:
            ctl: Controller = app_.state.controller
            app_.state.panel = build_state(settings, ctl)
            create_first_admin(ctl)
            yield value

    app.router.lifespan_context = lifespan


def _error_page(request: Request, status_code: int, key: str) -> HTMLResponse:
    page = public_page(request)
    return page.render("error.html", status_code, message=page.t(key))


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

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PasswordChangeRequired, change_password)
    app.add_exception_handler(PanelForbidden, forbidden)
    app.add_exception_handler(PanelNotFound, not_found)


def install(app: FastAPI, settings: ControllerSettings) -> None:
    app.mount("/panel/static", StaticFiles(directory=STATIC), name="panel-static")
    if cookie_principal not in deps.principal_resolvers:
        deps.principal_resolvers.append(cookie_principal)
    _add_handlers(app)
    _wrap_lifespan(app, settings)
