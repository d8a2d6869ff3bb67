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
) -> None:
    """Add an entry to ``session``; it commits with the change it describes."""
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
