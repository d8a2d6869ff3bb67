"""FastAPI dependencies: the controller, a DB session, and who is calling (with role checks).

Routes never re-implement these: they declare ``Depends(require_role(...))``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Annotated

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


def _bearer_principal(request: Request, ctl: Controller) -> Principal | None:
    token = ctl.settings.api_token
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if token is None:
        # Without a token only an explicit development switch opens the API (demo, tests).
        if ctl.settings.api_anonymous_admin:
            return Principal("local", Role.ADMIN, all_communes=True)
        return None
    if scheme.lower() == "bearer" and secrets.compare_digest(
        given.encode(), token.get_secret_value().encode()
    ):
        return Principal("api", Role.ADMIN, all_communes=True)
    return None


def current_principal(request: Request, ctl: ControllerDep) -> Principal:
    for resolver in (*principal_resolvers(request), _bearer_principal):
        principal = resolver(request, ctl)
        if principal is not None:
            return principal
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "authentication required",
        headers={"WWW-Authenticate": "Bearer"},
    )


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
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
