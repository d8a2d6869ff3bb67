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


class UserError(ValueError):
    """A user change that cannot be made, with the reason to show."""


def parse_role(name: str) -> Role:
    try:
        return ROLES[name.strip().lower()]
    except KeyError:
        raise UserError(f"unknown role {name!r} (admin, approver, operator or viewer)") from None


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
        raise UserError(f"unknown commune (zone id): {', '.join(unknown)}")
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
        raise UserError("username: 2-64 of a-z, 0-9, '.', '_' or '-'")
    if name in RESERVED:
        raise UserError(f"the username {name!r} is reserved")
    if session.scalar(select(User).where(User.username == name)) is not None:
        raise UserError(f"user {name!r} already exists")
    parsed = parse_role(role)
    check_strength(name, password)
    scope = _check_communes(session, communes or [])
    if not all_communes and not scope:
        raise UserError("give at least one commune, or all communes")
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
        raise UserError("give at least one commune, or all communes")


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (same time either way)."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or user.disabled_at is not None:
        dummy_verify()
        return None
    return user if verify_password(user.password_hash, password) else None


def set_password(user: User, password: str, *, must_change: bool) -> None:
    check_strength(user.username, password)
    user.password_hash = hash_password(password)
    user.must_change_password = must_change


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


def ensure_demo_admin(session: Session, now: datetime) -> tuple[str, str]:
    """Demo only: ``admin`` / ``loa-demo`` without a forced password change (caller commits)."""
    username, password = DEMO_ADMIN
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = create_user(
            session,
            username=username,
            password=password,
            role="admin",
            now=now,
            all_communes=True,
            full_name="Quản trị (demo)",
            must_change_password=False,
        )
    else:
        set_password(user, password, must_change=False)
        user.disabled_at = None
    return username, password
