"""Audit entries for changes made through the JSON API: who (user and token), from where.

``add`` puts the entry into the session that carries the change, so both commit together;
``write`` is for changes a service committed itself (commands, emergencies): its own
transaction right after.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from controller.auth import audit
from controller.auth.client_address import client_address
from controller.auth.principal import Principal
from controller.services.container import Controller


def add(
    session: Session,
    ctl: Controller,
    who: Principal,
    request: Request,
    action: str,
    target: str | None,
    detail: str = "",
) -> None:
    audit.record(
        session,
        now=ctl.clock.now(),
        username=who.username,
        action=action,
        target=target,
        detail=detail,
        ip=client_address(request),
        token_id=who.token_id,
    )


def write(
    ctl: Controller,
    who: Principal,
    request: Request,
    action: str,
    target: str | None,
    detail: str = "",
) -> None:
    with ctl.sessions.begin() as session:
        add(session, ctl, who, request, action, target, detail)
