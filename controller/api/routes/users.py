"""Users over the JSON API (admin only): the same service the panel's users page uses, and
the same audit entries (``user.create``, ``user.update``, ``user.disable``/``user.enable``)
with who, from where and the account's role and communes."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from controller.api import audit_trail
from controller.api.deps import Admin, ControllerDep, SessionDep
from controller.auth.passwords import WeakPassword
from controller.auth.users import UserError, account_detail, create_user, update_user
from controller.db.models import User

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    role: str
    communes: list[str] = []
    all_communes: bool = False
    full_name: str = ""
    must_change_password: bool = True


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = None
    communes: list[str] | None = None
    all_communes: bool | None = None
    full_name: str | None = None
    disabled: bool | None = None


class UserOut(BaseModel):
    username: str
    full_name: str
    role: str
    communes: list[str]
    all_communes: bool
    must_change_password: bool
    disabled: bool
    created_at: datetime


def _out(u: User) -> UserOut:
    return UserOut(
        username=u.username,
        full_name=u.full_name,
        role=u.role,
        communes=list(u.communes or []),
        all_communes=u.all_communes,
        must_change_password=u.must_change_password,
        disabled=u.disabled_at is not None,
        created_at=u.created_at,
    )


@router.get("")
def list_users(session: SessionDep, _: Admin) -> list[UserOut]:
    return [_out(u) for u in session.scalars(select(User).order_by(User.username))]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_user(
    body: UserIn, request: Request, session: SessionDep, ctl: ControllerDep, who: Admin
) -> UserOut:
    now = ctl.clock.now()
    try:
        user = create_user(
            session,
            username=body.username,
            password=body.password,
            role=body.role,
            now=now,
            communes=body.communes,
            all_communes=body.all_communes,
            full_name=body.full_name,
            must_change_password=body.must_change_password,
        )
    except (UserError, WeakPassword) as exc:
        code = 409 if "already exists" in str(exc) else 422
        raise HTTPException(code, str(exc)) from None
    audit_trail.add(session, ctl, who, request, "user.create", user.username, account_detail(user))
    session.commit()
    return _out(user)


@router.patch("/{username}")
def change_user(
    username: str,
    body: UserPatch,
    request: Request,
    session: SessionDep,
    ctl: ControllerDep,
    who: Admin,
) -> UserOut:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {username!r}")
    if body.disabled and user.username == who.username:  # as in the panel
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "you cannot disable yourself")
    try:
        update_user(
            session,
            user,
            role=body.role,
            communes=body.communes,
            all_communes=body.all_communes,
            full_name=body.full_name,
        )
    except UserError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    if body.model_dump(exclude_none=True, exclude={"disabled"}):
        audit_trail.add(
            session, ctl, who, request, "user.update", user.username, account_detail(user)
        )
    if body.disabled is not None and body.disabled != (user.disabled_at is not None):
        user.disabled_at = ctl.clock.now() if body.disabled else None
        action = "user.disable" if body.disabled else "user.enable"
        audit_trail.add(session, ctl, who, request, action, user.username)
    session.commit()
    return _out(user)
