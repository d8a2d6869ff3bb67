"""Agent enrolment: a one-time token buys the node its broker credentials and the signing key.

No login: the token itself is the credential. Failures are slowed down and counted per
client address so tokens cannot be guessed at speed.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from fastapi import APIRouter, HTTPException, Request, status

from controller.api.deps import ControllerDep, SessionDep
from controller.api.schemas import EnrolIn, EnrolOut
from controller.services import provisioning

router = APIRouter(prefix="/api/v1", tags=["enrolment"])

MAX_FAILURES = 10
WINDOW_S = 600.0
_failures: dict[str, deque[float]] = defaultdict(deque)
_lock = threading.Lock()


def _too_many(client: str, now: float) -> bool:
    with _lock:
        q = _failures[client]
        while q and now - q[0] > WINDOW_S:
            q.popleft()
        return len(q) >= MAX_FAILURES


def _record_failure(client: str, now: float) -> None:
    with _lock:
        _failures[client].append(now)


@router.post("/enrol")
def enrol(body: EnrolIn, request: Request, session: SessionDep, ctl: ControllerDep) -> EnrolOut:
    client = request.client.host if request.client else "unknown"
    now = time.monotonic()
    if _too_many(client, now):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed enrolments")
    try:
        creds = provisioning.enrol(session, body.token)
    except provisioning.ProvisioningError as exc:
        _record_failure(client, now)
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    session.commit()
    ctl.sync_broker_access()
    s = ctl.settings
    return EnrolOut(
        node_id=creds.node_id,
        mqtt_host=s.broker_public_host or s.mqtt_host,
        mqtt_port=s.mqtt_port,
        mqtt_username=creds.mqtt_username,
        mqtt_password=creds.mqtt_password,
        signing_keys=[ctl.signer.public_key_b64],
        zones=creds.zones,
    )
