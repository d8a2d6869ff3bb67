"""Playback logs: filters, keyset pages, streamed CSV export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, StreamingResponse

from controller.panel.i18n import translate
from controller.panel.log_view import CSV_COLUMNS, shown
from controller.panel.page import ViewerPage
from controller.panel.queries import nodes as node_queries
from controller.panel.queries import playback_log as log_q
from controller.panel.timefmt import LOCAL

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
        """The checked filter; raises LogFilterError for a bad date."""
        return log_q.LogFilter(
            node=self.node[:64],
            zone=self.zone[:64],
            date_from=log_q.parse_date(self.date_from),
            date_to=log_q.parse_date(self.date_to),
            status=self.status if self.status in log_q.KINDS else "",
            item=self.item[:128],
        )


LogQueryDep = Annotated[LogQuery, Depends()]


@router.get("/logs")
def logs_page(page: ViewerPage, q: LogQueryDep, before: str = "", after: str = "") -> HTMLResponse:
    error = ""
    try:
        flt = q.to_filter()
        older = log_q.Cursor.decode(before) if before else None
        newer = log_q.Cursor.decode(after) if after else None
    except log_q.LogFilterError as exc:
        error = str(exc)
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
        "date_from": flt.date_from.isoformat() if flt.date_from else "",
        "date_to": flt.date_to.isoformat() if flt.date_to else "",
        "status": flt.status,
        "item": flt.item,
    }
    return page.render(
        "logs.html",
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
def logs_csv(page: ViewerPage, q: LogQueryDep) -> StreamingResponse:
    try:
        flt = q.to_filter()
    except log_q.LogFilterError:
        flt = log_q.LogFilter()
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
