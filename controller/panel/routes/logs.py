"""Playback logs: filters, keyset pages, streamed CSV export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse

from controller.panel.i18n import translate
from controller.panel.log_view import CSV_COLUMNS, shown
from controller.panel.page import ViewerPage
from controller.panel.queries import nodes as node_queries
from controller.panel.queries import playback_log as log_q
from controller.panel.timefmt import LOCAL
from controller.panel.vn_dates import BadDateTime, fmt_date, parse_optional_date

router = APIRouter(prefix="/panel", include_in_schema=False)


@dataclass
class LogQuery:
    """The log filters as query parameters, shared by the page and its CSV export."""

    node: str = ""
    zone: str = ""
    date_from: str = ""
    date_to: str = ""
    status: str = ""
    item: str = ""

    def to_filter(self) -> log_q.LogFilter:
        """The checked filter; BadDateTime for a date that is not dd/mm/yyyy (or ISO)."""
        return log_q.LogFilter(
            node=self.node[:64],
            zone=self.zone[:64],
            date_from=parse_optional_date(self.date_from[:40]),
            date_to=parse_optional_date(self.date_to[:40]),
            status=self.status if self.status in log_q.KINDS else "",
            item=self.item[:128],
        )


LogQueryDep = Annotated[LogQuery, Depends()]


@router.get("/logs")
def logs_page(page: ViewerPage, q: LogQueryDep, before: str = "", after: str = "") -> HTMLResponse:
    error, status_code = "", 200
    try:
        flt = q.to_filter()
        older = log_q.Cursor.decode(before) if before else None
        newer = log_q.Cursor.decode(after) if after else None
    except log_q.LogFilterError as exc:
        error = str(exc)
        flt, older, newer = log_q.LogFilter(), None, None
    except BadDateTime as exc:
        error, status_code = page.t(exc.key, value=exc.value), 422
        flt, older, newer = log_q.LogFilter(), None, None
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        result = log_q.page(session, scope, flt, before=older, after=newer)
        rows = shown(session, page.t, result.rows)
        nodes = node_queries.list_nodes(session, scope, node_queries.NodeFilter())
        zones = node_queries.zones_in_scope(session, scope)
    query = {
        "node": flt.node,
        "zone": flt.zone,
        "date_from": fmt_date(flt.date_from),
        "date_to": fmt_date(flt.date_to),
        "status": flt.status,
        "item": flt.item,
    }
    if error:  # keep what was typed, so it can be corrected
        query |= {"date_from": q.date_from[:40], "date_to": q.date_to[:40]}
    return page.render(
        "logs.html",
        status_code,
        result=result,
        rows=rows,
        flt=flt,
        query={k: v for k, v in query.items() if v},
        nodes=nodes,
        zones=zones,
        kinds=log_q.KINDS,
        error=error,
        first_page=bool(before or after),
    )


@router.get("/logs.csv")
def logs_csv(page: ViewerPage, q: LogQueryDep) -> Response:
    try:
        flt = q.to_filter()
    except BadDateTime as exc:  # never "everything" for a mistyped date
        return PlainTextResponse(page.t(exc.key, value=exc.value), status_code=422)
    with page.ctl.sessions() as session:
        scope = page.scope(session)
    stamp = page.ctl.clock.now().astimezone(LOCAL).strftime("%Y%m%d-%H%M")
    t = partial(translate, page.lang)

    def lines() -> Iterator[Sequence[object]]:
        yield [t(key) for key in CSV_COLUMNS]
        for session, chunk in log_q.csv_chunks(page.ctl.sessions, scope, flt):
            yield from (r.csv() for r in shown(session, t, chunk))

    return StreamingResponse(
        log_q.csv_text(lines()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="loa-playback-{stamp}.csv"'},
    )
