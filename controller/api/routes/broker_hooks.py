"""EMQX's HTTP authentication and authorisation hooks: per-node broker rights from the DB.

EMQX (production cluster) calls these for every CONNECT and for every publish/subscribe it
has not cached; they apply exactly the Mosquitto ACL rules (``controller/broker/``). Only
EMQX may call them: it sends ``Authorization: Bearer <LOA_BROKER_HOOK_TOKEN>``; without that
setting the hooks answer 404. Anything unknown is denied, never ignored, so EMQX never falls
through to "allow" (its ``authorization.no_match`` is ``deny`` as well).
"""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from controller.api.deps import ControllerDep, SessionDep
from controller.broker.authorisation import controller_may, node_may, password_matches
from controller.services.container import Controller
from controller.services.provisioning import access_for

router = APIRouter(prefix="/api/v1/broker", tags=["broker hooks"])

Result = Literal["allow", "deny"]


class AuthnIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    username: Annotated[str, Field(max_length=200)] = ""
    password: Annotated[str, Field(max_length=500)] = ""


class AuthnOut(BaseModel):
    result: Result
    is_superuser: bool = False


class AuthzIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    username: Annotated[str, Field(max_length=200)] = ""
    topic: Annotated[str, Field(max_length=1000)]
    action: Annotated[str, Field(max_length=20)]


class AuthzOut(BaseModel):
    result: Result


def _require_broker(request: Request, ctl: Controller) -> None:
    token = ctl.settings.broker_hook_token
    if token is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "broker hooks are not enabled")
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not the broker")


def _is_controller(ctl: Controller, username: str) -> bool:
    return bool(username) and username == ctl.settings.mqtt_username


@router.post("/authn", responses={403: {}, 404: {}})
def authenticate(
    body: AuthnIn, request: Request, session: SessionDep, ctl: ControllerDep
) -> AuthnOut:
    """CONNECT: the controller's account or an enrolled, non-revoked node's."""
    _require_broker(request, ctl)
    if _is_controller(ctl, body.username):
        secret = ctl.settings.mqtt_password
        plain = secret.get_secret_value() if secret is not None else None
        ok = password_matches(body.password, plain=plain)
    else:
        node = access_for(session, body.username)
        ok = node is not None and password_matches(body.password, stored_hash=node.password_hash)
    return AuthnOut(result="allow" if ok else "deny")


@router.post("/authz", responses={403: {}, 404: {}})
def authorise(body: AuthzIn, request: Request, session: SessionDep, ctl: ControllerDep) -> AuthzOut:
    """PUBLISH / SUBSCRIBE: the same table as the Mosquitto ACL file."""
    _require_broker(request, ctl)
    if body.action not in ("publish", "subscribe"):
        return AuthzOut(result="deny")
    action: Literal["publish", "subscribe"] = body.action  # type: ignore[assignment]
    if _is_controller(ctl, body.username):
        ok = controller_may(body.topic)
    else:
        node = access_for(session, body.username)
        ok = node is not None and node_may(node, action, body.topic)
    return AuthzOut(result="allow" if ok else "deny")
