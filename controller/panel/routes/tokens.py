"""The account's API tokens: list, create (shown once, never again), revoke.

Every user manages only their own tokens here; an admin revokes others' through the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from controller.auth import api_tokens
from controller.auth.api_tokens import TokenError, create_token, revoke, tokens_of
from controller.db.models import ApiToken, User
from controller.panel.page import Page, PanelNotFound, ViewerPage

router = APIRouter(prefix="/panel/tokens", include_in_schema=False)


def _render(page: Page, status_code: int = 200, new_token: str = "", error: str = "") -> Response:
    assert page.identity is not None
    with page.ctl.sessions() as session:
        tokens = [t for t, _ in tokens_of(session, page.identity.user_id)]
    return page.render("tokens.html", status_code, tokens=tokens, new_token=new_token, error=error)


@router.get("")
def tokens_page(page: ViewerPage) -> Response:
    return _render(page)


@router.post("")
def create(page: ViewerPage, name: Annotated[str, Form(max_length=100)]) -> Response:
    assert page.identity is not None
    with page.ctl.sessions.begin() as session:
        user = session.get(User, page.identity.user_id)
        assert user is not None
        try:
            token, text = create_token(session, user, name, page.ctl.clock.now())
        except TokenError:
            session.rollback()
            return _render(page, 422, error=page.t("tokens.error_name"))
        detail = api_tokens.audit_detail(token, user.username)
        page.audit(session, "token.create", api_tokens.audit_target(token), detail)
    # Shown in this answer only: the page is not cached and the token is stored hashed.
    response = _render(page, 201, new_token=text)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/{token_id}/revoke")
def revoke_own(page: ViewerPage, token_id: str) -> Response:
    assert page.identity is not None
    with page.ctl.sessions.begin() as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.user_id != page.identity.user_id:
            raise PanelNotFound(token_id)
        if revoke(token, page.ctl.clock.now()):
            detail = api_tokens.audit_detail(token, page.principal.username)
            page.audit(session, "token.revoke", api_tokens.audit_target(token), detail)
    return RedirectResponse("/panel/tokens", status_code=303)
