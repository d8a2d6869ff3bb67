"""Panel users: create, authenticate, change passwords, and the first-run / demo admins.

A user's ``communes`` are zone ids; the user sees and acts on those zones' subtrees only,
unless ``all_communes`` is set (admins normally have it). Roles are ordered: viewer <
operator < admin, as in :class:`controller.api.deps.Role`.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.auth.passwords import (
    check_strength,
    dummy_verify,
    hash_password,
    random_password,
    verify_password,
)
from controller.auth.principal import Principal, Role
from controller.db.models import User, Zone

log = logging.getLogger(__name__)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
ROLES = {r.name.lower(): r for r in Role}
DEMO_ADMIN = ("admin", "loa-demo")
# Names of callers that are not users (shared API token, demo, upstream): never a user's name.
RESERVED = frozenset({"api", "local", "upstream"})


def account_detail(user: User) -> str:
    """An account change's audit detail, the same from the panel and the API: the role and
    the commune scope the account has after the change."""
    communes = "*" if user.all_communes else ",".join(sorted(user.communes or [])) or "-"
    return f"role={user.role} communes={communes}"


class UserError(ValueError):
    """A user change that cannot be made, with the reason to show (English, for the API and
    the CLI); ``key`` and ``value`` let the panel say it in the user's language."""

    def __init__(self, message: str, key: str = "", value: str = "") -> None:
        super().__init__(message)
        self.key = key
        self.value = value


def parse_role(name: str) -> Role:
    try:
        return ROLES[name.strip().lower()]
    except KeyError:
        raise UserError(
            f"unknown role {name!r} (admin, approver, operator or viewer)",
            "users.error_role",
            name,
        ) from None


def principal_for(user: User) -> Principal:
    return Principal(
        user.username,
        parse_role(user.role),
        frozenset(user.communes or []),
        all_communes=user.all_communes,
    )


def _check_communes(session: Session, communes: list[str]) -> list[str]:
    wanted = list(dict.fromkeys(c.strip() for c in communes if c.strip()))
    known = set(session.scalars(select(Zone.id).where(Zone.id.in_(wanted))))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        names = ", ".join(unknown)
        raise UserError(f"unknown commune (zone id): {names}", "users.error_commune", names)
    return wanted


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    now: datetime,
    communes: list[str] | None = None,
    all_communes: bool = False,
    full_name: str = "",
    must_change_password: bool = True,
) -> User:
    """Add a user (caller commits). Operators and viewers need at least one commune."""
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise UserError("username: 2-64 of a-z, 0-9, '.', '_' or '-'", "users.error_username", name)
    if name in RESERVED:
        raise UserError(f"the username {name!r} is reserved", "users.error_reserved", name)
    if session.scalar(select(User).where(User.username == name)) is not None:
        raise UserError(f"user {name!r} already exists", "users.error_exists", name)
    parsed = parse_role(role)
    check_strength(name, password)
    scope = _check_communes(session, communes or [])
    if not all_communes and not scope:
        raise UserError("give at least one commune, or all communes", "users.error_no_commune")
    user = User(
        username=name,
        full_name=full_name.strip()[:200],
        password_hash=hash_password(password),
        role=parsed.name.lower(),
        communes=scope,
        all_communes=all_communes,
        must_change_password=must_change_password,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session,
    user: User,
    *,
    role: str | None = None,
    communes: list[str] | None = None,
    all_communes: bool | None = None,
    full_name: str | None = None,
) -> None:
    if role is not None:
        user.role = parse_role(role).name.lower()
    if communes is not None:
        user.communes = _check_communes(session, communes)
    if all_communes is not None:
        user.all_communes = all_communes
    if full_name is not None:
        user.full_name = full_name.strip()[:200]
    if not user.all_communes and not user.communes:
        raise UserError("give at least one commune, or all communes", "users.error_no_commune")


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (same time either way)."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or user.disabled_at is not None:
        dummy_verify()
        return None
    return user if verify_password(user.password_hash, password) else None


def set_password(user: User, password: str, *, must_change: bool) -> None:
    """Set a password someone else chose (creation, an admin's reset, the demo)."""
    check_strength(user.username, password)
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    if must_change:
        user.password_changed_at = None


def change_own_password(user: User, password: str, now: datetime) -> None:
    """The user replaced their password themselves: no forced change is left."""
    set_password(user, password, must_change=False)
    user.password_changed_at = now


def ensure_first_admin(session: Session, now: datetime) -> str | None:
    """On an empty user table, create ``admin`` with a random password and return it.

    The password is shown once (the caller logs it) and must be changed at first login.
    """
    if session.scalar(select(func.count()).select_from(User)):
        return None
    password = random_password()
    create_user(
        session,
        username="admin",
        password=password,
        role="admin",
        now=now,
        all_communes=True,
        full_name="Quản trị",
        must_change_password=True,
    )
    return password


def ensure_demo_admin(session: Session, now: datetime) -> tuple[str, str | None]:
    """Demo only: ``admin`` / ``loa-demo``, to be replaced at first login (caller commits).

    Returns the name and the password to print. A demo restarted on a kept data directory
    leaves a password the admin already chose and returns None for it: resetting it to a
    published default would undo the change the first login asked for.
    """
    username, password = DEMO_ADMIN
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        create_user(
            session,
            username=username,
            password=password,
            role="admin",
            now=now,
            all_communes=True,
            full_name="Quản trị (demo)",
            must_change_password=True,
        )
    elif user.password_changed_at is not None and user.disabled_at is None:
        return username, None
    else:
        set_password(user, password, must_change=True)
        user.disabled_at = None
    return username, password
