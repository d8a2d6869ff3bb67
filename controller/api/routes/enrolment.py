"""Agent enrolment: a one-time token buys the node its broker credentials and the signing key.

No login: the token itself is the credential (``protocol/enrol_token.py``). It expires, is
consumed atomically, and failures are throttled per client address. ``GET /enrol/ca.pem``
serves the CA certificate agents must trust; it is public, and the agent checks it against
the pin in its token before trusting it, so serving it over an unverified connection is safe.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, HTTPException, Request, Response, status

from controller.api.deps import ControllerDep, SessionDep
from controller.api.schemas import EnrolIn, EnrolOut
from controller.auth.enrol_throttle import EnrolThrottle, client_address
from controller.services import provisioning
from controller.services.container import Controller

router = APIRouter(prefix="/api/v1", tags=["enrolment"])


def _throttle(ctl: Controller) -> EnrolThrottle:
    if ctl.enrol_throttle is None:
        s = ctl.settings
        ctl.enrol_throttle = EnrolThrottle(ctl.clock, s.enrol_max_failures, s.enrol_window_s)
    return ctl.enrol_throttle


@router.post("/enrol", responses={403: {}, 429: {}})
def enrol(body: EnrolIn, request: Request, session: SessionDep, ctl: ControllerDep) -> EnrolOut:
    client = client_address(request)
    throttle = _throttle(ctl)
    wait = throttle.retry_after_s(client)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed enrolments from this address; try again later",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    try:
        creds = provisioning.enrol(session, body.token, ctl.clock.now())
    except provisioning.ProvisioningError as exc:
        session.rollback()
        throttle.failed(client)
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    session.commit()
    ctl.sync_broker_access()
    s = ctl.settings
    identity = ctl.identity()
    return EnrolOut(
        node_id=creds.node_id,
        mqtt_host=s.broker_public_host or s.mqtt_host,
        mqtt_port=s.broker_public_port or s.mqtt_port,
        mqtt_username=creds.mqtt_username,
        mqtt_password=creds.mqtt_password,
        signing_keys=[identity.signing_key_b64],
        zones=creds.zones,
        ca_pem=identity.ca_pem,
        min_playlist_version=creds.min_playlist_version,
    )


@router.get("/enrol/ca.pem", response_class=Response, responses={404: {}})
def agent_ca(ctl: ControllerDep) -> Response:
    """The CA certificate agents trust (public; the token pins its SHA-256)."""
    pem = ctl.identity().ca_pem
    if pem is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this controller has no private CA")
    return Response(pem, media_type="application/x-pem-file")
