"""Playback log rows as people read them, shared by the log page and its CSV export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from controller.panel.log_text import Translate, action_label, human_detail
from controller.panel.queries import item_names
from controller.panel.queries.playback_log import LogRow
from controller.panel.timefmt import fmt_datetime, to_local

CSV_COLUMNS = (
    "csv.time",
    "csv.node",
    "csv.village",
    "csv.status",
    "csv.kind",
    "csv.title",
    "csv.occurrence",
    "csv.detail",
    "csv.node_id",
    "csv.item_id",
    "csv.command_id",
    "csv.playlist_version",
    "csv.time_utc",
    "csv.author",
    "csv.approver",
)


@dataclass(frozen=True)
class ShownRow:
    row: LogRow
    time: str
    """dd/mm/yyyy HH:MM:SS in Asia/Ho_Chi_Minh."""
    node: str
    village: str
    status: str
    kind: str
    title: str
    occurrence: str
    detail: str
    author: str = ""
    approver: str = ""

    def csv(self) -> tuple[str | int, ...]:
        r = self.row
        return (
            self.time,
            self.node,
            self.village,
            self.status,
            self.kind,
            self.title,
            self.occurrence,
            self.detail,
            r.node_id,
            r.item_id or "",
            r.command_id or "",
            "" if r.playlist_version is None else r.playlist_version,
            r.at.isoformat(),
            self.author,
            self.approver,
        )


def fmt_seconds(row: LogRow) -> str:
    local = to_local(row.at)
    return local.strftime("%d/%m/%Y %H:%M:%S") if local else ""


def shown(session: Session, t: Translate, rows: Sequence[LogRow]) -> list[ShownRow]:
    names = item_names.resolve(
        session,
        (r.node_id for r in rows),
        (r.item_id for r in rows),
        [*(r.command_id for r in rows), *_commands_in_details(rows)],
    )
    return [_shown(t, names, r) for r in rows]


def _commands_in_details(rows: Sequence[LogRow]) -> list[str]:
    """Command ids named inside details ("stopped by <id>")."""
    found = []
    for r in rows:
        for word in r.detail.replace(";", " ").split():
            if len(word) == 32 and all(c in "0123456789abcdef" for c in word):
                found.append(word)
    return found


def _shown(t: Translate, names: item_names.Names, r: LogRow) -> ShownRow:
    node = names.node(r.node_id)
    item = names.item(r.item_id)
    if item is not None:
        title, kind = item.title, t(f"item.kind.{item.kind}")
        occurrence = fmt_datetime(item.occurrence) if item.occurrence else ""
    elif r.item_id is None and r.command_id and r.command_id in names.commands:
        action = action_label(t, names.commands[r.command_id])
        title, kind, occurrence = t("logs.command_item", action=action), "", ""
    else:
        title, kind, occurrence = "", "", ""
    return ShownRow(
        row=r,
        time=fmt_seconds(r),
        node=node.name if node else r.node_id,
        village=node.village if node else "",
        status=t(f"kind.{r.kind}"),
        kind=kind,
        title=title,
        occurrence=occurrence,
        detail=human_detail(t, r.detail, names),
        author=item.author if item else "",
        approver=item.approver if item else "",
    )
