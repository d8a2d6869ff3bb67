"""Server-side logout: a session's nonce is listed until its cookie would expire anyway.

The cookie itself stays a signed, stateless token; this list is what makes "log out" end the
session for a copy of the cookie too. Rows older than the cookie lifetime are pruned here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from controller.auth.session_cookie import SessionData
from controller.db.models import RevokedSession


def end_session(session: Session, data: SessionData, lifetime: timedelta, now: datetime) -> None:
    """List ``data``'s nonce as ended (caller commits) and forget long-expired ones."""
    session.execute(delete(RevokedSession).where(RevokedSession.expires_at < now))
    if session.get(RevokedSession, data.nonce) is None:
        # The signer accepts cookies issued up to 5 minutes "in the future": cover that too.
        expires = max(now, data.issued_at + lifetime + timedelta(minutes=5))
        session.add(RevokedSession(nonce=data.nonce, expires_at=expires))
