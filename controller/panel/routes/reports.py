"""The report upward (per commune or a province's communes, for a month or a quarter): the
printable page and its CSV and XLSX downloads. The figures come from
``controller.services.reports``; this module only picks the zone and period and renders."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from controller.panel.page import Page, PanelNotFound, ViewerPage
from controller.panel.timefmt import today_local
from controller.services.reports import choice, export
from controller.services.reports.period import Period, PeriodError
from controller.services.reports.upward import LEVELS, SOURCES, UpwardReport

router = APIRouter(prefix="/panel", include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(kind: str, month: str, quarter: str, period: str, today: date) -> Period:
    """From the picker (kind + month or quarter) or a download link's ``period``; the current
    month when nothing valid is given."""
    text = period or (quarter if kind == "quarter" else month)
    try:
        return Period.parse(text)
    except PeriodError:
        return Period.month_of(today)


def _quarters(today: date) -> list[Period]:
    """This quarter and the seven before it, newest first."""
    first = Period.parse(f"{today.year}-Q{(today.month - 1) // 3 + 1}").first
    found = []
    for back in range(8):
        index = first.year * 12 + first.month - 1 - 3 * back
        found.append(Period(date(index // 12, index % 12 + 1, 1), 3))
    return found


def _report(page: Page, zone_id: str, period: Period) -> UpwardReport:
    with page.ctl.sessions() as session:
        report = choice.report_for(
            session,
            page.scope(session),
            zone_id,
            period,
            page.ctl.settings,
            page.ctl.clock.now(),
        )
    if report is None:
        raise PanelNotFound(zone_id)
    return report


@router.get("/reports/monthly")
def monthly(
    page: ViewerPage,
    zone: str = "",
    commune: str = "",
    kind: str = "month",
    month: str = "",
    quarter: str = "",
    period: str = "",
) -> HTMLResponse:
    now = page.ctl.clock.now()
    today = today_local(now)
    chosen = _period(kind, month, quarter, period, today)
    zone = zone or commune
    with page.ctl.sessions() as session:
        zones = choice.choosable(session, page.scope(session))
    report = _report(page, zone, chosen) if zone else None
    return page.render(
        "report.html",
        zones=zones,
        zone=zone,
        period=chosen,
        month=chosen.first.strftime("%Y-%m") if not chosen.is_quarter else today.strftime("%Y-%m"),
        quarters=_quarters(today),
        report=report,
        levels=LEVELS,
        sources=SOURCES,
        now=now,
    )


def _download(page: Page, zone: str, period: str, ext: str) -> Response:
    try:
        chosen = Period.parse(period)
    except PeriodError as exc:
        return Response(str(exc), status_code=422, media_type="text/plain; charset=utf-8")
    report = _report(page, zone, chosen)
    name = f"bao-cao-{report.zone_id}-{chosen.key}.{ext}"
    body, media = (
        (export.to_csv(report), "text/csv; charset=utf-8")
        if ext == "csv"
        else (export.to_xlsx(report), XLSX)
    )
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/reports/upward.csv")
def upward_csv(page: ViewerPage, zone: str, period: str) -> Response:
    return _download(page, zone, period, "csv")


@router.get("/reports/upward.xlsx")
def upward_xlsx(page: ViewerPage, zone: str, period: str) -> Response:
    return _download(page, zone, period, "xlsx")
