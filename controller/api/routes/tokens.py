"""Per-user API tokens over the JSON API: list, create and revoke one's own; admins anyone's.

A token is made only from a logged-in session (a token cannot mint more tokens, so a leaked
one cannot outlive its revocation), and shown once in the answer to the POST.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.api import audit_trail
from controller.api.deps import ControllerDep, SessionDep, Viewer
from controller.auth.api_tokens import (
    TokenError,
    audit_detail,
    audit_target,
    create_token,
    revoke,
    tokens_of,
)
from controller.auth.principal import Principal, Role
from controller.db.models import ApiToken, User

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, description="what will use the token")


class TokenOut(BaseModel):
    id: str
    name: str
    username: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="shown only in this answer; store it now")


def _out(token: ApiToken, username: str) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        username=username,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def _user(session: Session, principal: Principal) -> User | None:
    return session.scalar(select(User).where(User.username == principal.username))


@router.get("")
def list_tokens(
    session: SessionDep, who: Viewer, user: str | None = None, all: bool = False
) -> list[TokenOut]:
    """Your own tokens; an admin may ask for one ``user``'s or ``all``."""
    if (user is not None or all) and who.role < Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin sees other users' tokens")
    if all:
        return [_out(t, name) for t, name in tokens_of(session, None)]
    owner = session.scalar(select(User).where(User.username == user)) if user else None
    if user is not None and owner is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {user!r}")
    owner = owner or _user(session, who)
    return [] if owner is None else [_out(t, n) for t, n in tokens_of(session, owner.id)]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_token(
    body: TokenIn, request: Request, session: SessionDep, ctl: ControllerDep, who: Viewer
) -> NewTokenOut:
    if who.token_id is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a token cannot create tokens; log in")
    user = _user(session, who)
    if user is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "tokens belong to panel users; this caller is not one"
        )
    now = ctl.clock.now()
    try:
        token, text = create_token(session, user, body.name, now)
    except TokenError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    detail = audit_detail(token, user.username)
    audit_trail.add(session, ctl, who, request, "token.create", audit_target(token), detail)
    session.commit()
    return NewTokenOut(**_out(token, user.username).model_dump(), token=text)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    token_id: str, request: Request, session: SessionDep, ctl: ControllerDep, who: Viewer
) -> None:
    found = session.execute(
        select(ApiToken, User.username)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.id == token_id)
    ).first()
    # Someone else's token answers 404 like a missing one (ids are not disclosed).
    if found is None or (found[1] != who.username and who.role < Role.ADMIN):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no token {token_id!r}")
    token, owner = found
    if revoke(token, ctl.clock.now()):
        detail = audit_detail(token, owner)
        audit_trail.add(session, ctl, who, request, "token.revoke", audit_target(token), detail)
        session.commit()
