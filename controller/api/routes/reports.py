"""The report upward as JSON, for the province's information-source system to pull.

``GET /api/v1/reports/upward/{zone_id}?period=2026-11`` (or ``2026-Q4``): a commune, or a
province/district with each of its communes and their sum. Token or session auth as every
API route; a commune user gets only their commune (anything else is 404, as if it did not
exist), a province user the province and its communes. Times are UTC, durations seconds.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, status

from controller.api.deps import ControllerDep, SessionDep, Viewer
from controller.api.scoping import ScopeDep
from controller.services.reports import choice, export
from controller.services.reports.period import Period, PeriodError

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/upward/{zone_id}")
def upward_report(
    zone_id: str,
    session: SessionDep,
    ctl: ControllerDep,
    _: Viewer,
    scope: ScopeDep,
    period: str = Query(..., description="a month YYYY-MM or a quarter YYYY-Qn"),
) -> dict[str, Any]:
    try:
        chosen = Period.parse(period)
    except PeriodError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    report = choice.report_for(session, scope, zone_id, chosen, ctl.settings, ctl.clock.now())
    if report is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no zone {zone_id!r}")
    return export.to_json(report)
