"""The audit log writer: one row per login, announcement, command and user change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from controller.db.models import AuditEntry


def record(
    session: Session,
    *,
    now: datetime,
    username: str | None,
    action: str,
    target: str | None = None,
    detail: str = "",
    ip: str | None = None,
    token_id: str | None = None,
) -> None:
    """Add an entry to ``session``; it commits with the change it describes.

    ``token_id`` (a per-user API token the change came with) is written at the head of
    ``detail`` as ``token=ID``, so the log names both the user and the token.
    """
    if token_id:
        detail = f"token={token_id} {detail}".rstrip()
    session.add(
        AuditEntry(
            at=now,
            username=username,
            action=action[:60],
            target=target[:200] if target else None,
            detail=detail,
            ip=ip,
        )
    )
