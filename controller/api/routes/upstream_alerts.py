"""Alerts from upstream: CAP 1.2 XML or its JSON form → emergency, announcement or nothing.

Callers are an admin, or the upstream system holding the dedicated bearer token
(``LOA_UPSTREAM_ALERT_TOKEN``; it may post alerts and nothing else). The body is read with
a hard size limit before any parsing. A refused alert answers 4xx with the reason and
broadcasts nothing; an accepted one answers 200 with what it became.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from controller.api.deps import Admin, ControllerDep, SessionDep, bearer_token, current_principal
from controller.api.schemas import Slug, StrictBody
from controller.auth.principal import Principal, Role
from controller.db.models import Zone, ZoneGeocode
from controller.services.container import Controller
from controller.upstream_alerts.errors import AlertRejected
from controller.upstream_alerts.intake import IntakeResult, accept_alert
from controller.upstream_alerts.json_form import AlertIn
from controller.upstream_alerts.model import CapAlert
from controller.upstream_alerts.parse import MAX_BYTES, parse_cap

router = APIRouter(prefix="/api/v1/upstream-alerts", tags=["upstream-alerts"])


def upstream_or_admin(request: Request, ctl: ControllerDep) -> Principal:
    token = ctl.settings.upstream_alert_token
    given = bearer_token(request)
    if (
        token is not None
        and given  # never an empty token, whatever the settings say
        and secrets.compare_digest(given.encode(), token.get_secret_value().encode())
    ):
        return Principal("upstream", Role.OPERATOR, all_communes=True)
    principal = current_principal(request, ctl)
    if principal.role < Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "alerts need the admin role")
    return principal


Upstream = Annotated[Principal, Depends(upstream_or_admin)]


class IntakeOut(BaseModel):
    identifier: str
    outcome: str
    reason: str
    duplicate: bool
    emergency_id: str | None
    announcement_id: int | None
    zones: list[str]


async def _limited_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"alert is larger than {MAX_BYTES} bytes"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"alert is larger than {MAX_BYTES} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def _accept(ctl: Controller, alert: CapAlert, fmt: str, who: Principal) -> IntakeOut:
    def work() -> IntakeResult:
        try:
            return accept_alert(ctl, alert, fmt, by=who.username)
        except AudioRejected as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        except (AudioToolError, SynthesisFailed) as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"speech synthesis failed: {exc}"
            ) from None

    result = await run_in_threadpool(work)
    return IntakeOut(identifier=alert.identifier, **vars(result))


@router.post("/cap")
async def post_cap(request: Request, ctl: ControllerDep, who: Upstream) -> IntakeOut:
    """A CAP 1.2 ``<alert>`` as the request body (``application/cap+xml`` or XML)."""
    data = await _limited_body(request)
    try:
        alert = parse_cap(data)
    except AlertRejected as exc:
        raise HTTPException(exc.status, exc.reason) from None
    return await _accept(ctl, alert, "cap", who)


@router.post("/json")
async def post_json(request: Request, ctl: ControllerDep, who: Upstream) -> IntakeOut:
    """The same alert as JSON (see ``controller.upstream_alerts.json_form.AlertIn``)."""
    data = await _limited_body(request)
    try:
        alert = AlertIn.model_validate_json(data).to_cap()
    except ValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail[:2000]) from None
    except AlertRejected as exc:
        raise HTTPException(exc.status, exc.reason) from None
    return await _accept(ctl, alert, "json", who)


GeocodeText = Annotated[str, Field(min_length=1, max_length=100)]


class GeocodeIn(StrictBody):
    """A CAP ``<geocode>`` pair that reaches a zone, e.g. ``MA_XA`` / ``19765``."""

    zone_id: Slug
    value_name: GeocodeText
    value: GeocodeText


@router.get("/geocodes")
def list_geocodes(session: SessionDep, _: Admin) -> list[GeocodeIn]:
    rows = session.scalars(select(ZoneGeocode).order_by(ZoneGeocode.value_name, ZoneGeocode.value))
    return [GeocodeIn(zone_id=r.zone_id, value_name=r.value_name, value=r.value) for r in rows]


@router.post("/geocodes", status_code=status.HTTP_201_CREATED)
def add_geocode(body: GeocodeIn, session: SessionDep, _: Admin) -> GeocodeIn:
    """Map a geocode to a zone (idempotent; one geocode may reach several zones)."""
    if session.get(Zone, body.zone_id) is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown zone {body.zone_id!r}")
    if session.get(ZoneGeocode, (body.value_name, body.value, body.zone_id)) is None:
        session.add(ZoneGeocode(value_name=body.value_name, value=body.value, zone_id=body.zone_id))
        session.commit()
    return body
