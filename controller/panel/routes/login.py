"""Login, logout, first-login password change, and the language switch."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from controller.auth.passwords import WeakPassword, verify_password
from controller.auth.revoked_sessions import end_session
from controller.auth.users import authenticate, change_own_password
from controller.db.models import User
from controller.panel.cookies import LOGIN_CSRF_COOKIE, clear_session, set_login_csrf, set_session
from controller.panel.i18n import COOKIE as LANG_COOKIE
from controller.panel.i18n import LANGUAGES
from controller.panel.identity import read_identity
from controller.panel.page import AnyUserPage, Page, PublicPage, client_ip
from controller.panel.state import panel_state

router = APIRouter(prefix="/panel", include_in_schema=False)


def safe_next(value: str | None) -> str:
    """Only same-site panel paths: an open redirect would help phishing."""
    if value and value.startswith("/panel") and not value.startswith("//") and "\\" not in value:
        return value
    return "/panel/"


def _login_form(page: Page, next_url: str, error: str = "", status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = page.render(
        "login.html", status_code, login_csrf=token, next_url=next_url, error=error
    )
    set_login_csrf(response, panel_state(page.request), token)
    return response


@router.get("/login")
def login_form(page: PublicPage, next: str | None = None) -> Response:
    if read_identity(page.request, page.ctl) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(page, safe_next(next))


@router.post("/login")
def login(
    page: PublicPage,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/panel/",
) -> Response:
    request = page.request
    state = panel_state(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf):
        return _login_form(page, safe_next(next), page.t("login.expired"), 403)
    ip = client_ip(request)
    wait = state.limiter.retry_after_s(username, ip)
    if wait > 0:
        refused = _login_form(
            page, safe_next(next), page.t("login.throttled", minutes=int(wait // 60) + 1), 429
        )
        refused.headers["Retry-After"] = str(int(wait) + 1)
        return refused
    now = page.ctl.clock.now()
    with page.ctl.sessions.begin() as session:
        user = authenticate(session, username, password)
        if user is None:
            state.limiter.failed(username, ip)
            page.audit(session, "login.failed", username.strip().lower()[:100], username="-")
        else:
            state.limiter.succeeded(username, ip)
            page.audit(session, "login", user.username, username=user.username)
            cookie, _ = state.signer.issue(user.id, user.password_hash, now)
            must_change = user.must_change_password
    if user is None:
        return _login_form(page, safe_next(next), page.t("login.bad"), 401)
    target = "/panel/password" if must_change else safe_next(next)
    response = RedirectResponse(target, status_code=303)
    set_session(response, state, cookie)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/panel/login")
    return response


@router.post("/logout")
def logout(page: AnyUserPage) -> Response:
    """End the session on the server too: a copy of the cookie stops working now."""
    assert page.identity is not None
    state = panel_state(page.request)
    now = page.ctl.clock.now()
    with page.ctl.sessions.begin() as session:
        end_session(session, page.identity.session, state.signer.lifetime, now)
        page.audit(session, "logout", page.principal.username)
    response = RedirectResponse("/panel/login", status_code=303)
    clear_session(response)
    return response


@router.get("/password")
def password_form(page: AnyUserPage, changed: bool = False) -> Response:
    """``changed`` shows the fixed success message after a change (nothing else is read)."""
    return page.render("password.html", message=page.t("password.changed") if changed else "")


@router.post("/password")
def change_password(
    page: AnyUserPage,
    current: Annotated[str, Form(max_length=200)],
    new: Annotated[str, Form(max_length=200)],
    confirm: Annotated[str, Form(max_length=200)],
) -> Response:
    assert page.identity is not None
    state = panel_state(page.request)
    with page.ctl.sessions.begin() as session:
        user = session.get(User, page.identity.user_id)
        assert user is not None
        error = ""
        if not verify_password(user.password_hash, current):
            error = page.t("password.wrong_current")
        elif new != confirm:
            error = page.t("password.mismatch")
        elif new == current:
            error = page.t("password.same")
        else:
            try:
                change_own_password(user, new, page.ctl.clock.now())
            except WeakPassword as exc:
                error = page.t(f"password.weak.{exc.reason}")
        if error:
            session.rollback()
            return page.render("password.html", 422, error=error)
        page.audit(session, "password.changed", user.username)
        cookie, _ = state.signer.issue(user.id, user.password_hash, page.ctl.clock.now())
    response = RedirectResponse("/panel/password?changed=1", status_code=303)
    set_session(response, state, cookie)
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, request: Request, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("")
def panel_root() -> Response:
    return RedirectResponse("/panel/", status_code=307)
