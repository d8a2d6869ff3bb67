"""User administration (admin only): create, change role and communes, disable, reset.

A refused form comes back with what was typed (never the password) and the reason in the
user's language, so one missing commune does not mean typing everything again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from controller.auth.passwords import WeakPassword, random_password
from controller.auth.users import (
    UserError,
    account_detail,
    create_user,
    set_password,
    update_user,
)
from controller.db.models import User, Zone
from controller.panel.page import AdminPage, Page, PanelNotFound

router = APIRouter(prefix="/panel/users", include_in_schema=False)


def _commune_choices(zones: list[Zone], users: list[User]) -> list[Zone]:
    """Zones with zones below them (communes, provinces), and any a user already has."""
    parents = {z.parent_id for z in zones if z.parent_id}
    held = {c for u in users for c in (u.communes or [])}
    return [z for z in zones if z.id in parents or z.id in held]


def _render(
    page: Page,
    status_code: int = 200,
    message: str = "",
    error: str = "",
    new: dict[str, Any] | None = None,
) -> Response:
    with page.ctl.sessions() as session:
        users = list(session.scalars(select(User).order_by(User.username)))
        zones = list(session.scalars(select(Zone).order_by(Zone.parent_id.is_not(None), Zone.name)))
    return page.render(
        "users.html",
        status_code,
        users=users,
        communes=_commune_choices(zones, users),
        message=message,
        error=error,
        new=new or {"role": "operator", "communes": []},
    )


def _reason(page: Page, exc: UserError | WeakPassword) -> str:
    if isinstance(exc, WeakPassword):
        return page.t(f"password.weak.{exc.reason}")
    return page.t(exc.key, value=exc.value) if exc.key else str(exc)


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
    typed = {
        "username": username,
        "full_name": full_name,
        "role": role,
        "communes": communes,
        "all_communes": all_communes,
    }
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
            page.audit(session, "user.create", user.username, account_detail(user))
            name = user.username
    except (UserError, WeakPassword) as exc:
        error = page.t("users.error", reason=_reason(page, exc))
        return _render(page, 422, error=error, new=typed)
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
            page.audit(session, "user.update", user.username, account_detail(user))
            name = user.username
    except UserError as exc:
        return _render(page, 422, error=page.t("users.error", reason=_reason(page, exc)))
    return _render(page, message=page.t("users.saved", user=name))


@router.post("/{user_id}/{action}")
def account_action(page: AdminPage, user_id: int, action: str) -> Response:
    """``disable``, ``enable`` or ``reset`` (a new random password, shown once)."""
    message = ""
    with page.ctl.sessions.begin() as session:
        user = _user(session.get(User, user_id), user_id)
        if action == "disable":
            if user.username == page.principal.username:
                reason = page.t("users.error_yourself")
                return _render(page, 422, error=page.t("users.error", reason=reason))
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
