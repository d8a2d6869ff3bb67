"""The report upward as files: CSV and XLSX (Vietnamese headers, dd/mm/yyyy, Vietnam time)
and the JSON the province system pulls. All three come from the same ``UpwardReport``.

CSV and XLSX share one list of tables: the CSV writes them one below the other (a title row,
a header row, the rows, an empty row), the XLSX puts each on a sheet of its own. The CSV is
UTF-8 with a byte-order mark so spreadsheet programs read the diacritics; numbers use a
decimal point.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from controller.services.reports.availability import Availability
from controller.services.reports.period import LOCAL
from controller.services.reports.upward import (
    LEVELS,
    SOURCES,
    ApprovalTimes,
    NodeRow,
    Section,
    Tally,
    UpwardReport,
)

LEVEL_VI = {"normal": "Thông thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}
SOURCE_VI = {"own": "Của xã", "upstream": "Cấp trên", "relay": "Tiếp sóng", "emergency": "Khẩn cấp"}
KIND_VI = {"failed": "Lỗi", "missed": "Lỡ"}
TOTAL_VI = "Tổng cộng"

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    title: str
    sheet: str
    headers: list[str]
    rows: list[list[Cell]]


def local_datetime(value: datetime) -> str:
    return value.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M:%S")


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 2)


def percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _uptime(a: Availability) -> list[Cell]:
    pct = a.pct
    return [round(a.measured_s / 3600, 2), None if pct is None else round(pct, 2)]


def _node_cells(commune: str, r: NodeRow) -> list[Cell]:
    return [
        commune,
        r.name or TOTAL_VI,
        r.node_id,
        r.planned,
        r.ad_hoc,
        r.played,
        r.failed,
        r.missed,
        r.not_reported,
        percent(r.rate),
        r.other,
        r.plays,
        minutes(r.airtime_s),
        *_uptime(r.availability),
    ]


def _tally_cells(commune: str, label: str, t: Tally) -> list[Cell]:
    return [commune, label, t.bulletins, t.plays, minutes(t.airtime_s)]


def _sections(report: UpwardReport) -> list[Section]:
    """Each commune, then the province total when there is more than one commune."""
    if len(report.communes) == 1 and report.communes[0] is report.total:
        return report.communes
    return [*report.communes, report.total]


def tables(report: UpwardReport) -> list[Table]:
    sections = _sections(report)
    nodes: list[list[Cell]] = []
    levels: list[list[Cell]] = []
    sources: list[list[Cell]] = []
    failures: list[list[Cell]] = []
    approvals: list[list[Cell]] = []
    aired: list[list[Cell]] = []
    for s in sections:
        is_total = s is report.total and len(sections) > 1
        if not is_total:
            nodes.extend(_node_cells(s.zone_name, r) for r in s.nodes)
            failures.extend(
                [
                    s.zone_name,
                    f.node_name,
                    f.node_id,
                    local_datetime(f.at),
                    f.title,
                    KIND_VI[f.kind],
                    f.event,
                    f.reason,
                ]
                for f in s.failures
            )
        nodes.append(_node_cells(s.zone_name, s.node_total))
        levels.extend(_tally_cells(s.zone_name, LEVEL_VI[k], s.by_level[k]) for k in LEVELS)
        levels.append(_tally_cells(s.zone_name, TOTAL_VI, s.total))
        sources.extend(_tally_cells(s.zone_name, SOURCE_VI[k], s.by_source[k]) for k in SOURCES)
        sources.append(_tally_cells(s.zone_name, TOTAL_VI, s.total))
        approvals.append(_approval_cells(s.zone_name, s.approvals))
        aired.extend(
            [
                s.zone_name,
                a.bulletin.title,
                LEVEL_VI[a.bulletin.level],
                SOURCE_VI[a.bulletin.source],
                a.bulletin.author or "",
                a.bulletin.approver or "",
                a.plays,
                minutes(a.airtime_s),
            ]
            for a in s.aired
        )
    return [
        Table(
            "Tình hình phát theo cụm loa",
            "Cụm loa",
            [
                "Xã",
                "Cụm loa",
                "Mã cụm loa",
                "Kế hoạch",
                "Trong đó phát ngay / khẩn cấp",
                "Đã phát",
                "Lỗi",
                "Lỡ",
                "Chưa báo cáo",
                "Tỷ lệ đã phát (%)",
                "Phát ngoài kế hoạch",
                "Lượt phát trong kỳ",
                "Thời lượng phát (phút)",
                "Thời gian theo dõi (giờ)",
                "Tỷ lệ hoạt động (%)",
            ],
            nodes,
        ),
        Table(
            "Bản tin theo mức độ",
            "Mức độ",
            ["Xã", "Mức độ", "Số bản tin", "Lượt phát", "Thời lượng phát (phút)"],
            levels,
        ),
        Table(
            "Bản tin theo nguồn",
            "Nguồn",
            ["Xã", "Nguồn", "Số bản tin", "Lượt phát", "Thời lượng phát (phút)"],
            sources,
        ),
        Table(
            "Lượt phát lỗi và bị lỡ",
            "Lỗi và lỡ",
            [
                "Xã",
                "Cụm loa",
                "Mã cụm loa",
                "Thời điểm",
                "Bản tin",
                "Loại",
                "Sự kiện",
                "Lý do",
            ],
            failures,
        ),
        Table(
            "Bản tin đã phát",
            "Bản tin",
            [
                "Xã",
                "Bản tin",
                "Mức độ",
                "Nguồn",
                "Người soạn",
                "Người duyệt",
                "Lượt phát",
                "Thời lượng phát (phút)",
            ],
            aired,
        ),
        Table(
            "Thời gian phê duyệt",
            "Phê duyệt",
            ["Xã", "Số bản tin được duyệt", "Trung vị (phút)", "Lâu nhất (phút)"],
            approvals,
        ),
    ]


def _approval_cells(commune: str, a: ApprovalTimes) -> list[Cell]:
    return [commune, a.count, minutes(a.median_s), minutes(a.max_s)]


def _heading(report: UpwardReport) -> list[list[Cell]]:
    return [
        [f"Báo cáo tình hình truyền thanh {report.zone_name}, {report.period.label_vi}"],
        ["Từ ngày", report.period.first.strftime("%d/%m/%Y")],
        ["Đến hết ngày", report.period.last.strftime("%d/%m/%Y")],
        ["Lập lúc", local_datetime(report.generated_at)],
    ]


def to_csv(report: UpwardReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(_heading(report))
    for table in tables(report):
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.headers)
        writer.writerows(["" if c is None else c for c in row] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: UpwardReport) -> bytes:
    from openpyxl import Workbook  # only when a spreadsheet is asked for: keeps start-up lean

    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Báo cáo"
    for row in _heading(report):
        summary.append(row)
    for table in tables(report):
        sheet = book.create_sheet(table.sheet)
        sheet.append([table.title])
        sheet.append(table.headers)
        for row in table.rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_json(report: UpwardReport) -> dict[str, Any]:
    """Machine-readable: UTC ISO times, seconds, the same figures as the files."""
    return {
        "zone_id": report.zone_id,
        "zone_name": report.zone_name,
        "period": report.period.key,
        "from": report.period.start.isoformat(),
        "until": report.period.end.isoformat(),
        "generated_at": report.generated_at.isoformat(),
        "communes": [_section_json(s) for s in report.communes],
        "total": _section_json(report.total),
    }


def _tally_json(t: Tally) -> dict[str, Any]:
    return {"bulletins": t.bulletins, "plays": t.plays, "airtime_s": t.airtime_s}


def _node_json(r: NodeRow) -> dict[str, Any]:
    return {
        "node_id": r.node_id,
        "name": r.name,
        "planned": r.planned,
        "ad_hoc": r.ad_hoc,
        "played": r.played,
        "failed": r.failed,
        "missed": r.missed,
        "not_reported": r.not_reported,
        "other": r.other,
        "played_rate": r.rate,
        "plays": r.plays,
        "airtime_s": r.airtime_s,
        "measured_s": r.availability.measured_s,
        "online_s": r.availability.online_s,
        "uptime_pct": r.availability.pct,
    }


def _section_json(s: Section) -> dict[str, Any]:
    total = _node_json(s.node_total)
    del total["node_id"], total["name"]
    return {
        "zone_id": s.zone_id,
        "zone_name": s.zone_name,
        "bulletins": _tally_json(s.total),
        "by_level": {k: _tally_json(v) for k, v in s.by_level.items()},
        "by_source": {k: _tally_json(v) for k, v in s.by_source.items()},
        "nodes": [_node_json(r) for r in s.nodes],
        "node_total": total,
        "failures": [
            {
                "node_id": f.node_id,
                "at": f.at.isoformat(),
                "occurrence": f.occurrence,
                "title": f.title,
                "kind": f.kind,
                "event": f.event,
                "reason": f.reason,
            }
            for f in s.failures
        ],
        "aired": [
            {
                "bulletin": a.bulletin.key,
                "title": a.bulletin.title,
                "level": a.bulletin.level,
                "source": a.bulletin.source,
                "author": a.bulletin.author,
                "approver": a.bulletin.approver,
                "plays": a.plays,
                "airtime_s": a.airtime_s,
                "languages": list(a.languages),
            }
            for a in s.aired
        ],
        "approvals": {
            "count": s.approvals.count,
            "median_s": s.approvals.median_s,
            "max_s": s.approvals.max_s,
        },
    }
