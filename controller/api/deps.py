"""FastAPI dependencies: the controller, a DB session, and who is calling (with role checks).

Routes never re-implement these: they declare ``Depends(require_role(...))``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Annotated, NoReturn

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from controller.auth.principal import Principal, Role
from controller.services.container import Controller


def get_controller(request: Request) -> Controller:
    ctl: Controller = request.app.state.controller
    return ctl


ControllerDep = Annotated[Controller, Depends(get_controller)]


def get_session(ctl: ControllerDep) -> Iterator[Session]:
    with ctl.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

PrincipalResolver = Callable[[Request, Controller], Principal | None]


def principal_resolvers(request: Request) -> list[PrincipalResolver]:
    """Extra ways to identify a caller, tried in order before the bearer token: what
    ``create_app`` put in ``app.state.principal_resolvers`` (the panel's session cookie)."""
    resolvers: list[PrincipalResolver] = getattr(request.app.state, "principal_resolvers", [])
    return resolvers


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None when absent, "" when blank."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, given = header.strip().partition(" ")
    return given.strip() if scheme.lower() == "bearer" else ""


def _bearer_principal(request: Request, ctl: Controller) -> Principal | None:
    given = bearer_token(request)
    if given is None:
        # No credentials: only an explicit development switch opens the API (demo, tests).
        if ctl.settings.api_anonymous_admin and ctl.settings.api_token is None:
            return Principal("local", Role.ADMIN, all_communes=True)
        return None
    if not given:
        raise_unauthorized("empty or malformed bearer token")
    from controller.auth.api_tokens import TOKEN_PREFIX, principal_for_token

    if given.startswith(TOKEN_PREFIX):
        principal = principal_for_token(ctl, given)
        if principal is None:
            raise_unauthorized("unknown, revoked or disabled user's token")
        return principal
    token = ctl.settings.api_token  # the shared token for upstream systems only
    if token is not None and secrets.compare_digest(
        given.encode(), token.get_secret_value().encode()
    ):
        return Principal("api", Role.ADMIN, all_communes=True)
    # Wrong credentials are refused even where anonymous calls would be let in.
    raise_unauthorized("invalid bearer token")


def raise_unauthorized(reason: str) -> NoReturn:
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"}
    )


def current_principal(request: Request, ctl: ControllerDep) -> Principal:
    for resolver in (*principal_resolvers(request), _bearer_principal):
        principal = resolver(request, ctl)
        if principal is not None:
            return principal
    raise_unauthorized("authentication required")


def require_role(role: Role) -> Callable[..., Principal]:
    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role < role:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs the {role.name.lower()} role"
            )
        return principal

    return check


Viewer = Annotated[Principal, Depends(require_role(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require_role(Role.OPERATOR))]
Approver = Annotated[Principal, Depends(require_role(Role.APPROVER))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
