"""The playback log: filters, keyset pagination and streamed CSV over millions of rows.

Pages are keyed on ``(at, id)`` — never OFFSET — so page 1,000 costs what page 1 costs.
On SQLite a multi-node filter reads ``ix_playback_events_at`` newest-first and stops after
one page (``INDEXED BY``), instead of collecting every matching row and sorting them; a
single-node filter uses ``ix_playback_events_node_at``. Other databases ignore the hint.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Row, Select, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from controller.auth.scope import Scope
from controller.db.models import PlaybackEvent
from controller.panel.timefmt import local_midnight_utc
from controller.services.zones import ZoneTree, nodes_reached

PAGE_SIZE = 50
LogSelect = Select[int, datetime, str, str, str | None, str | None, int | None, str]
CSV_CHUNK = 5000
KINDS = (
    "started",
    "finished",
    "failed",
    "skipped",
    "missed",
    "command_ack",
    "command_rejected",
    "amp_duty_limit",
)
COLUMNS = (
    PlaybackEvent.id,
    PlaybackEvent.at,
    PlaybackEvent.node_id,
    PlaybackEvent.kind,
    PlaybackEvent.item_id,
    PlaybackEvent.command_id,
    PlaybackEvent.playlist_version,
    PlaybackEvent.detail,
)


class LogFilterError(ValueError):
    """A filter value that cannot be understood (bad date, bad cursor)."""


@dataclass(frozen=True)
class LogFilter:
    node: str = ""
    zone: str = ""
    date_from: date | None = None
    date_to: date | None = None
    status: str = ""
    item: str = ""


@dataclass(frozen=True)
class Cursor:
    at: datetime
    id: int

    def encode(self) -> str:
        return f"{self.at.isoformat()}|{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        at_text, _, id_text = text.partition("|")
        try:
            at = datetime.fromisoformat(at_text)
            if at.tzinfo is None:
                raise ValueError("cursor time has no zone")
            return cls(at, int(id_text))
        except ValueError as exc:
            raise LogFilterError(f"bad page cursor: {exc}") from None


@dataclass(frozen=True)
class LogRow:
    id: int
    at: datetime
    node_id: str
    kind: str
    item_id: str | None
    command_id: str | None
    playlist_version: int | None
    detail: str


@dataclass(frozen=True)
class LogPage:
    rows: list[LogRow]
    newer: Cursor | None
    older: Cursor | None


def node_set(session: Session, scope: Scope, flt: LogFilter) -> set[str] | None:
    """Node ids the filter and scope allow; None means "every node"."""
    allowed: set[str] | None = None if scope.everything else set(scope.node_ids)
    if flt.zone:
        reached = nodes_reached(session, ZoneTree.load(session), [flt.zone], [])
        allowed = reached if allowed is None else allowed & reached
    if flt.node:
        allowed = {flt.node} if allowed is None else allowed & {flt.node}
    return allowed


def base_query(nodes: set[str] | None, flt: LogFilter) -> LogSelect:
    query = select(*COLUMNS)
    if nodes is not None:
        query = query.where(PlaybackEvent.node_id.in_(sorted(nodes)))
        if len(nodes) > 1:
            query = query.with_hint(PlaybackEvent, "INDEXED BY ix_playback_events_at", "sqlite")
    if flt.date_from:
        query = query.where(PlaybackEvent.at >= local_midnight_utc(flt.date_from))
    if flt.date_to:
        query = query.where(PlaybackEvent.at < local_midnight_utc(flt.date_to + timedelta(days=1)))
    if flt.status:
        query = query.where(PlaybackEvent.kind == flt.status)
    if flt.item:
        query = query.where(
            PlaybackEvent.item_id >= flt.item, PlaybackEvent.item_id < flt.item + "\uffff"
        )
    return query


def _rows(session: Session, query: LogSelect) -> list[LogRow]:
    return [_row(r) for r in session.execute(query).all()]


def _row(r: Row[int, datetime, str, str, str | None, str | None, int | None, str]) -> LogRow:
    m = r._mapping
    return LogRow(
        id=m["id"],
        at=m["at"],
        node_id=m["node_id"],
        kind=m["kind"],
        item_id=m["item_id"],
        command_id=m["command_id"],
        playlist_version=m["playlist_version"],
        detail=m["detail"],
    )


def _older_than(c: Cursor) -> ColumnElement[bool]:
    return or_(PlaybackEvent.at < c.at, and_(PlaybackEvent.at == c.at, PlaybackEvent.id < c.id))


def _newer_than(c: Cursor) -> ColumnElement[bool]:
    return or_(PlaybackEvent.at > c.at, and_(PlaybackEvent.at == c.at, PlaybackEvent.id > c.id))


def page(
    session: Session,
    scope: Scope,
    flt: LogFilter,
    before: Cursor | None = None,
    after: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> LogPage:
    """Newest first. ``before`` pages to older rows, ``after`` back to newer ones."""
    nodes = node_set(session, scope, flt)
    if nodes is not None and not nodes:
        return LogPage([], None, None)
    query = base_query(nodes, flt)
    if after is not None:
        asc = query.where(_newer_than(after)).order_by(PlaybackEvent.at, PlaybackEvent.id)
        rows = _rows(session, asc.limit(size + 1))
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        more_older = True
    else:
        if before is not None:
            query = query.where(_older_than(before))
        desc = query.order_by(PlaybackEvent.at.desc(), PlaybackEvent.id.desc())
        rows = _rows(session, desc.limit(size + 1))
        more_older = len(rows) > size
        rows = rows[:size]
        more_newer = before is not None
    newer = Cursor(rows[0].at, rows[0].id) if rows and more_newer else None
    older = Cursor(rows[-1].at, rows[-1].id) if rows and more_older else None
    return LogPage(rows, newer, older)


def csv_chunks(
    sessions: sessionmaker[Session], scope: Scope, flt: LogFilter, chunk: int = CSV_CHUNK
) -> Iterator[tuple[Session, list[LogRow]]]:
    """Every matching row, newest first, a few thousand per query (memory stays flat);
    each chunk comes with its open session so the caller can look names up in it."""
    before: Cursor | None = None
    while True:
        with sessions() as session:
            result = page(session, scope, replace(flt), before=before, size=chunk)
            yield session, result.rows
        if result.older is None:
            return
        before = result.older


def csv_text(rows: Iterator[Sequence[object]]) -> Iterator[str]:
    """CSV lines from row tuples, one string per batch; a BOM first so Excel reads UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    prefix = "\ufeff"
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield prefix + buffer.getvalue()
            prefix = ""
            buffer.seek(0)
            buffer.truncate()
    yield prefix + buffer.getvalue()
