"""Who is behind a request's session cookie (for panel pages and the JSON API alike).

The user row is read on every request, so disabling a user, changing a role or a password
takes effect at once; a password change also voids other sessions (fingerprint mismatch).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from controller.auth.principal import Principal
from controller.auth.session_cookie import COOKIE_NAME, SessionData, password_fingerprint
from controller.auth.users import principal_for
from controller.db.models import RevokedSession, User
from controller.panel.state import panel_state
from controller.services.container import Controller

CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Identity:
    principal: Principal
    session: SessionData
    user_id: int
    full_name: str
    language: str
    must_change_password: bool


def read_identity(request: Request, ctl: Controller) -> Identity | None:
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie:
        return None
    state = panel_state(request)
    data = state.signer.read(cookie, ctl.clock.now())
    if data is None:
        return None
    with ctl.sessions() as session:
        user = session.get(User, data.user_id)
        if (
            user is None
            or session.get(RevokedSession, data.nonce) is not None
            or user.disabled_at is not None
            or password_fingerprint(user.password_hash) != data.password_fingerprint
        ):
            return None
        return Identity(
            principal_for(user),
            data,
            user.id,
            user.full_name,
            user.language,
            user.must_change_password,
        )


def cookie_principal(request: Request, ctl: Controller) -> Principal | None:
    """Resolver for ``controller.api.deps``: the panel session also signs JSON API calls.

    A cookie-authenticated write must carry the page's CSRF token in ``X-CSRF-Token``
    (another site's page can send the cookie but cannot read the token).
    """
    identity = read_identity(request, ctl)
    if identity is None:
        return None
    if identity.must_change_password:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "change your password first")
    if request.method not in SAFE_METHODS and not panel_state(request).signer.csrf_ok(
        identity.session.nonce, request.headers.get(CSRF_HEADER)
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return identity.principal
