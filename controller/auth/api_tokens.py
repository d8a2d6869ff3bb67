"""Per-user API tokens: made by their owner, shown once, stored as SHA-256, revocable.

A token acts exactly as its user (role and communes read from the user row on every call),
so disabling or deleting the user ends it at once. The tokens carry 32 random bytes, so a
plain SHA-256 is enough to store them (no guessing dictionary exists to slow down).
``LOA_API_TOKEN`` is a different thing: one shared admin token for upstream systems.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import ApiToken, User

if TYPE_CHECKING:
    from controller.auth.principal import Principal
    from controller.services.container import Controller

TOKEN_PREFIX = "loa_"  # noqa: S105 (a marker, not a secret)
MAX_NAME = 100
MAX_ACTIVE_PER_USER = 50
# last_used_at is written at most this often per token (one UPDATE per call would be waste).
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token request that cannot be honoured, with the reason to show."""


def audit_target(token: ApiToken) -> str:
    """The audit log's target for a token (the secret itself is never logged)."""
    return f"token:{token.id}"


def audit_detail(token: ApiToken, owner: str) -> str:
    """A token change's audit detail, the same from the panel and the API."""
    return f"name={token.name} owner={owner}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A new token row for ``user`` (caller commits) and the token text, to show once."""
    clean = " ".join(name.split())[:MAX_NAME]
    if not clean:
        raise TokenError("give the token a name (what uses it)")
    active = session.scalars(
        select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    if len(active) >= MAX_ACTIVE_PER_USER:
        raise TokenError(f"at most {MAX_ACTIVE_PER_USER} active tokens per user")
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        id=secrets.token_hex(8),
        user_id=user.id,
        name=clean,
        token_sha256=token_digest(text),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, text


def tokens_of(session: Session, user_id: int | None) -> list[tuple[ApiToken, str]]:
    """(token, owner's username), newest first; ``user_id=None`` lists everyone's."""
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    rows = session.execute(query.order_by(ApiToken.created_at.desc(), ApiToken.id))
    return [(token, username) for token, username in rows]


def revoke(token: ApiToken, now: datetime) -> bool:
    """Mark ``token`` revoked (caller commits); False when it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    return True


def user_for_token(session: Session, text: str, now: datetime) -> tuple[User, ApiToken] | None:
    """The active user and live token behind ``text``, noting the use; else None."""
    if not text.startswith(TOKEN_PREFIX) or len(text) > 200:
        return None
    found = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_sha256 == token_digest(text))
    ).first()
    if found is None:
        return None
    user, token = found
    if token.revoked_at is not None or user.disabled_at is not None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return user, token


def principal_for_token(ctl: Controller, text: str) -> Principal | None:
    """Resolver used by ``controller.api.deps`` for ``Bearer loa_...`` headers."""
    from dataclasses import replace

    from controller.auth.users import principal_for

    with ctl.sessions.begin() as session:
        found = user_for_token(session, text, ctl.clock.now())
        if found is None:
            return None
        user, token = found
        if user.must_change_password:
            return None  # a reset password also pauses the user's tokens until changed
        return replace(principal_for(user), token_id=token.id)
