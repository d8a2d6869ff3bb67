"""Setting and clearing the panel's cookies with one set of flags (HttpOnly, SameSite)."""

from __future__ import annotations

from fastapi import Response

from controller.auth.session_cookie import COOKIE_NAME
from controller.panel.state import PanelState

LOGIN_CSRF_COOKIE = "loa_login_csrf"


def set_session(response: Response, state: PanelState, value: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=int(state.signer.lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=state.secure_cookies,
        path="/",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE_NAME, path="/")


def set_login_csrf(response: Response, state: PanelState, value: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        value,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=state.secure_cookies,
        path="/panel/login",
    )
