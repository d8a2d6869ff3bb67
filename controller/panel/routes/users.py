"""User administration (admin only): create, change role and communes, disable, reset."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from controller.auth.passwords import WeakPassword, random_password
from controller.auth.users import UserError, create_user, set_password, update_user
from controller.db.models import User, Zone
from controller.panel.page import AdminPage, Page, PanelNotFound

router = APIRouter(prefix="/panel/users", include_in_schema=False)


def _render(page: Page, status_code: int = 200, message: str = "", error: str = "") -> Response:
    with page.ctl.sessions() as session:
        users = list(session.scalars(select(User).order_by(User.username)))
        zones = list(session.scalars(select(Zone).order_by(Zone.parent_id.is_not(None), Zone.name)))
    return page.render(
        "users.html", status_code, users=users, zones=zones, message=message, error=error
    )


@router.get("")
def users_page(page: AdminPage) -> Response:
    return _render(page)


@router.post("")
def create(
    page: AdminPage,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=20)],
    full_name: Annotated[str, Form(max_length=200)] = "",
    communes: Annotated[list[str], Form()] = [],  # noqa: B006
    all_communes: Annotated[bool, Form()] = False,
) -> Response:
    try:
        with page.ctl.sessions.begin() as session:
            user = create_user(
                session,
                username=username,
                password=password,
                role=role,
                now=page.ctl.clock.now(),
                communes=communes,
                all_communes=all_communes,
                full_name=full_name,
            )
            page.audit(session, "user.create", user.username, f"role={role} communes={communes}")
            name = user.username
    except (UserError, WeakPassword) as exc:
        return _render(page, 422, error=page.t("users.error", reason=str(exc)))
    return _render(page, message=page.t("users.created", user=name))


def _user(session_user: User | None, user_id: int) -> User:
    if session_user is None:
        raise PanelNotFound(str(user_id))
    return session_user


@router.post("/{user_id}")
def update(
    page: AdminPage,
    user_id: int,
    role: Annotated[str, Form(max_length=20)],
    full_name: Annotated[str, Form(max_length=200)] = "",
    communes: Annotated[list[str], Form()] = [],  # noqa: B006
    all_communes: Annotated[bool, Form()] = False,
) -> Response:
    try:
        with page.ctl.sessions.begin() as session:
            user = _user(session.get(User, user_id), user_id)
            update_user(
                session,
                user,
                role=role,
                communes=communes,
                all_communes=all_communes,
                full_name=full_name,
            )
            page.audit(session, "user.update", user.username, f"role={role} communes={communes}")
    except UserError as exc:
        return _render(page, 422, error=page.t("users.error", reason=str(exc)))
    return RedirectResponse("/panel/users", status_code=303)


@router.post("/{user_id}/{action}")
def account_action(page: AdminPage, user_id: int, action: str) -> Response:
    """``disable``, ``enable`` or ``reset`` (a new random password, shown once)."""
    message = ""
    with page.ctl.sessions.begin() as session:
        user = _user(session.get(User, user_id), user_id)
        if action == "disable":
            if user.username == page.principal.username:
                return _render(page, 422, error=page.t("users.error", reason="not yourself"))
            user.disabled_at = page.ctl.clock.now()
        elif action == "enable":
            user.disabled_at = None
        elif action == "reset":
            password = random_password()
            set_password(user, password, must_change=True)
            message = page.t("users.new_password", user=user.username, password=password)
        else:
            raise PanelNotFound(action)
        page.audit(session, f"user.{action}", user.username)
    if message:
        return _render(page, message=message)
    return RedirectResponse("/panel/users", status_code=303)
