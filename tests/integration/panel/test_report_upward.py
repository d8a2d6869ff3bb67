"""The report upward over a seeded November 2026 in two communes of one province.

Seeded: a one-off announcement (repeated twice), a recurring daily one (priority, approved),
an upstream bulletin to both communes (priority, approved; failed on one speaker), a play-now
item, an emergency (replayed three times; skipped on one speaker), relays (a one-off and a
daily one), a speaker outage of 2½ days with the missed plays it causes, and heartbeats.

Every figure of the report is checked two ways, neither of them the report's own code: against
what the test itself seeded (the ``Seeded`` ledger) and against the playback log as the JSON
API lists it. It runs on SQLite, and on PostgreSQL with LOA_TEST_POSTGRES=1.
"""

from __future__ import annotations

import csv
import io
import os
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from integration.panel.conftest import seeded_panel
from integration.panel.panel_support import (
    PASSWORD,
    Panel,
    PlaybackReports,
    store_ad_hoc,
    store_emergency,
)
from openpyxl import load_workbook
from sqlalchemy import update

from controller.auth.api_tokens import create_token
from controller.auth.users import create_user
from controller.broker.process import MosquittoProcess
from controller.db.models import (
    Announcement,
    AnnouncementTarget,
    Heartbeat,
    Node,
    User,
    Zone,
)
from protocol.clock import FakeClock
from protocol.models import CommandAction
from schedules.local_time import local_naive_to_utc

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
HEARTBEAT_S = 600
DONG_TIEN = ["dong-an-1", "cay-thi-1", "khe-ngo-1"]
HOA_BINH = ["hoa-binh-1"]
LEVELS = ("normal", "priority", "emergency")
SOURCES = ("own", "upstream", "relay", "emergency")


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return local_naive_to_utc(datetime(2026, month, day, hour, minute))


MONTH_START, MONTH_END = local(1, 0), local(1, 0, month=12)
OUTAGE = (local(6, 0), local(8, 12))  # cay-thi-1 silent: no heartbeats


def occ(ann_id: int, at: datetime, index: int = 0) -> str:
    return f"ann-{ann_id}@{at.astimezone(UTC):%Y%m%dT%H%M%SZ}#{index}"


@dataclass
class Seeded:
    """What the test put in, kept apart from the report's own code."""

    plays: list[tuple[str, str, str, float]] = field(default_factory=list)
    """(node, item id, bulletin, seconds aired) for each finished play."""
    failures: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(node, occurrence, kind as reported, reason) for occurrences that never finished."""
    planned: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    classes: dict[str, tuple[str, str]] = field(default_factory=dict)
    """bulletin -> (level, source)"""
    approvals: dict[str, list[tuple[str, float]]] = field(default_factory=lambda: defaultdict(list))
    """commune -> [(bulletin, seconds submitted -> approved)]"""


class Month:
    def __init__(self, panel: Panel) -> None:
        self.ctl: Any = panel.client.app.state.controller  # type: ignore[attr-defined]
        self.reports = PlaybackReports(self.ctl)
        self.ledger = Seeded()

    def announcement(
        self,
        *,
        start: datetime,
        rule: dict[str, object] | None = None,
        zones: list[str] | None = None,
        nodes: list[str] | None = None,
        kind: str = "tts",
        duration_s: float = 20,
        repeat: int = 1,
        valid_until: datetime | None = None,
        level: str = "normal",
        origin: str = "own",
        approval: tuple[datetime, datetime] | None = None,
    ) -> int:
        with self.ctl.sessions.begin() as session:
            ann = Announcement(
                kind=kind,
                title=f"Tin {kind} {start:%d}",
                text="Kính thưa bà con." if kind == "tts" else None,
                stream_url="http://radio.example/vov1.mp3" if kind == "stream" else None,
                duration_s=duration_s,
                priority=2,
                repeat=repeat,
                start=start,
                rule=rule,
                valid_until=valid_until,
                created_at=local(1, 0, month=10),
                level=level,
                origin=origin,
                approval="approved" if approval else "not_required",
                submitted_at=approval[0] if approval else None,
                approved_at=approval[1] if approval else None,
                approved_by="chu-tich" if approval else None,
            )
            ann.targets = [AnnouncementTarget(zone_id=z) for z in zones or []] + [
                AnnouncementTarget(node_id=n) for n in nodes or []
            ]
            session.add(ann)
            session.flush()
            self.ledger.classes[f"ann-{ann.id}"] = (level, origin)
            return ann.id

    def ad_hoc(self, action: CommandAction, at: datetime, nodes: list[str], seconds: float) -> str:
        emergency = action is CommandAction.EMERGENCY
        prefix = "emg" if emergency else "now"
        item_id = f"{prefix}-{uuid.uuid4().hex[:12]}"
        title = "Bão số 9" if emergency else "Phát ngay"
        command = store_ad_hoc(self.ctl, action, item_id, at, nodes, seconds, title)
        if emergency:
            store_emergency(
                self.ctl,
                uuid.uuid4().hex[:16],
                title,
                item_id,
                at,
                seconds,
                at + timedelta(hours=1),
                repeat=3,
                command_ids=[command.id],
            )
        self.ledger.classes[item_id] = (
            ("emergency", "emergency") if emergency else ("normal", "own")
        )
        return item_id

    def event(self, node: str, kind: str, item_id: str, at: datetime, detail: str = "") -> None:
        self.reports.add(node, kind, item_id, at, detail)

    def play(self, node: str, item_id: str, at: datetime, seconds: float) -> None:
        self.event(node, "started", item_id, at)
        self.event(node, "finished", item_id, at + timedelta(seconds=seconds))
        bulletin = item_id.split("#", 1)[0].split("@", 1)[0]
        self.ledger.plays.append((node, item_id, bulletin, seconds))

    def fail(self, node: str, item_id: str, at: datetime, kind: str, reason: str) -> None:
        if kind == "failed":
            self.event(node, "started", item_id, at)
        self.event(node, kind, item_id, at + timedelta(seconds=1), reason)
        self.ledger.failures.append((node, item_id.split("#", 1)[0], kind, reason))

    def plan(self, nodes: list[str], count: int = 1) -> None:
        for node in nodes:
            self.ledger.planned[node] += count

    def heartbeats(self) -> None:
        rows = []
        for node in [*DONG_TIEN, *HOA_BINH]:
            at = MONTH_START
            while at < MONTH_END:
                if not (node == "cay-thi-1" and OUTAGE[0] <= at < OUTAGE[1]):
                    rows.append({"node_id": node, "sent_at": at, "received_at": at, "data": {}})
                at += timedelta(seconds=HEARTBEAT_S)
        with self.ctl.sessions.begin() as session:
            session.execute(Heartbeat.__table__.insert(), rows)


def seed(m: Month) -> None:
    approvals = m.ledger.approvals
    # One-off to the whole commune, repeated twice in its occurrence (41 s aired in all).
    once_at = local(5, 7)
    once = m.announcement(start=once_at, zones=["xa-dong-tien"], repeat=2)
    m.plan(DONG_TIEN)
    for node in DONG_TIEN:
        m.play(node, occ(once, once_at, 0), once_at, 21)
        m.play(node, occ(once, once_at, 1), once_at + timedelta(seconds=21), 20)
    # Daily 06:00 from the 3rd to the 9th, priority, approved after 30 minutes. cay-thi-1 is
    # down from the 6th to the 8th noon: it reports those three mornings missed when back.
    daily_first = local(3, 6)
    daily = m.announcement(
        start=daily_first,
        rule={"freq": "daily", "start_date": "2026-11-03", "time": "06:00"},
        zones=["ban-dong-an", "ban-cay-thi"],
        valid_until=local(10, 0),
        level="priority",
        approval=(local(2, 8), local(2, 8, 30)),
    )
    approvals["xa-dong-tien"].append((f"ann-{daily}", 1800))
    m.plan(["dong-an-1", "cay-thi-1"], 7)
    for day in range(7):
        at = daily_first + timedelta(days=day)
        m.play("dong-an-1", occ(daily, at), at, 30)
        if OUTAGE[0] <= at < OUTAGE[1]:
            m.fail("cay-thi-1", occ(daily, at), OUTAGE[1], "missed", "slot passed without playing")
        else:
            m.play("cay-thi-1", occ(daily, at), at, 30)
    # An upstream bulletin to both communes (priority, approved after an hour); it fails on
    # cay-thi-1.
    up_at = local(12, 9)
    upstream = m.announcement(
        start=up_at,
        zones=["xa-dong-tien", "xa-hoa-binh"],
        duration_s=60,
        level="priority",
        origin="upstream",
        approval=(local(12, 7), local(12, 8)),
    )
    for commune in ("xa-dong-tien", "xa-hoa-binh"):
        approvals[commune].append((f"ann-{upstream}", 3600))
    m.plan([*DONG_TIEN, *HOA_BINH])
    for node in ("dong-an-1", "khe-ngo-1", "hoa-binh-1"):
        m.play(node, occ(upstream, up_at), up_at, 60)
    m.fail("cay-thi-1", occ(upstream, up_at), up_at, "failed", "player exited with status 1")
    # Play now to dong-an-1 and khe-ngo-1; khe-ngo-1 never reports it.
    now_item = m.ad_hoc(CommandAction.PLAY_NOW, local(7, 9), ["dong-an-1", "khe-ngo-1"], 15)
    m.plan(["dong-an-1", "khe-ngo-1"])
    m.play("dong-an-1", now_item, local(7, 9), 15)
    # An emergency to the commune, replayed three times; skipped (late) on cay-thi-1.
    emg_at = local(8, 14)
    emg = m.ad_hoc(CommandAction.EMERGENCY, emg_at, DONG_TIEN, 10)
    m.plan(DONG_TIEN)
    for node in ("dong-an-1", "khe-ngo-1"):
        for k in range(3):
            m.play(node, emg, emg_at + timedelta(seconds=12 * k), 10)
    m.fail("cay-thi-1", emg, emg_at, "skipped", "late by 4.2s")
    # Relays: VOV1 once on khe-ngo-1 (the stream ended 5 s early), and every morning on
    # hoa-binh-1.
    relay_at = local(20, 18)
    relay = m.announcement(
        start=relay_at, nodes=["khe-ngo-1"], kind="stream", duration_s=1800, origin="relay"
    )
    m.plan(["khe-ngo-1"])
    m.play("khe-ngo-1", occ(relay, relay_at), relay_at, 1795)
    morning = m.announcement(
        start=local(1, 5, 30),
        rule={"freq": "daily", "start_date": "2026-11-01", "time": "05:30"},
        zones=["thon-hoa-1"],
        kind="stream",
        duration_s=600,
        origin="relay",
    )
    m.plan(HOA_BINH, 30)
    for day in range(30):
        at = local(1, 5, 30) + timedelta(days=day)
        m.play("hoa-binh-1", occ(morning, at), at, 599)
    # Outside the month: a play on 31 October and one on 1 December are not counted.
    m.event("dong-an-1", "finished", occ(once, local(31, 7, month=10)), local(31, 7, month=10))
    m.event("dong-an-1", "finished", occ(once, local(1, 7, month=12)), local(1, 7, month=12))
    m.heartbeats()


@dataclass
class System:
    panel: Panel
    ledger: Seeded
    tokens: dict[str, str]


def _database(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """PostgreSQL (a module-wide database) under LOA_TEST_POSTGRES=1, else SQLite."""
    if os.environ.get("LOA_TEST_POSTGRES") != "1":
        yield {}
        return
    from sqlalchemy import create_engine, text

    server: str = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    try:
        yield {"database_url": server.rsplit("/", 1)[0] + f"/{name}"}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def system(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    broker: MosquittoProcess,
) -> Iterator[System]:
    database = _database(request)
    overrides = next(database)
    with seeded_panel(
        tmp_path_factory.mktemp("upward"),
        broker,
        FakeClock(NOW),
        scheduler_enabled=False,
        heartbeat_interval_s=HEARTBEAT_S,
        heartbeat_retention_days=45,
        **overrides,
    ) as panel:
        ctl: Any = panel.client.app.state.controller  # type: ignore[attr-defined]
        tokens: dict[str, str] = {}
        with ctl.sessions.begin() as session:
            session.add(
                Zone(
                    id="xa-hoa-binh",
                    name="Xã Hòa Bình",
                    kind="xã",
                    parent_id="tinh-bac-ninh",
                    created_at=NOW,
                )
            )
            session.flush()
            session.add(
                Zone(
                    id="thon-hoa-1",
                    name="Thôn Hòa 1",
                    kind="thôn",
                    parent_id="xa-hoa-binh",
                    created_at=NOW,
                )
            )
            session.flush()
            session.add(
                Node(id="hoa-binh-1", name="Loa Hòa Bình", zone_id="thon-hoa-1", created_at=NOW)
            )
            session.flush()
            session.execute(update(Node).values(created_at=local(1, 0, month=10)))
            create_user(
                session,
                username="tinh",
                password=PASSWORD,
                role="viewer",
                now=NOW,
                communes=["tinh-bac-ninh"],
                must_change_password=False,
            )
            session.flush()
            for username in ("tinh", "viewer"):
                user = session.query(User).filter_by(username=username).one()
                tokens[username] = create_token(session, user, "tỉnh kéo báo cáo", NOW)[1]
        month = Month(panel)
        seed(month)
        yield System(panel, month.ledger, tokens)
    next(database, None)


def _api(system: System, who: str, path: str) -> Any:
    client = system.panel.as_(None)
    return client.get(path, headers={"Authorization": f"Bearer {system.tokens[who]}"})


def _report(system: System, zone: str = "tinh-bac-ninh") -> dict[str, Any]:
    r = _api(system, "tinh", f"/api/v1/reports/upward/{zone}?period=2026-11")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _expected_nodes(ledger: Seeded, nodes: list[str]) -> dict[str, dict[str, Any]]:
    """Per node, from the ledger alone."""
    found = {}
    for node in nodes:
        plays = [p for p in ledger.plays if p[0] == node]
        occurrences = {p[1].split("#", 1)[0] for p in plays}
        fails = [f for f in ledger.failures if f[0] == node]
        found[node] = {
            "planned": ledger.planned[node],
            "played": len(occurrences),
            "failed": sum(1 for f in fails if f[2] == "failed"),
            "missed": sum(1 for f in fails if f[2] in ("missed", "skipped")),
            "not_reported": ledger.planned[node] - len(occurrences) - len(fails),
            "other": 0,
            "plays": len(occurrences),
            "airtime_s": sum(p[3] for p in plays),
        }
    return found


def _expected_tallies(ledger: Seeded, nodes: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    found: dict[str, dict[str, dict[str, Any]]] = {"by_level": {}, "by_source": {}}
    for axis, names, index in (("by_level", LEVELS, 0), ("by_source", SOURCES, 1)):
        for name in names:
            plays = [
                p for p in ledger.plays if p[0] in nodes and ledger.classes[p[2]][index] == name
            ]
            found[axis][name] = {
                "bulletins": len({p[2] for p in plays}),
                "plays": len({(p[0], p[1].split("#", 1)[0]) for p in plays}),
                "airtime_s": sum(p[3] for p in plays),
            }
    return found


def test_every_figure_matches_what_was_seeded(system: System) -> None:
    report = _report(system)
    communes = {c["zone_id"]: c for c in report["communes"]}
    assert list(communes) == [
        "xa-dong-tien",
        "xa-hoa-binh",
    ]  # by id: the same order on every database
    ledger = system.ledger
    for zone, members in (("xa-dong-tien", DONG_TIEN), ("xa-hoa-binh", HOA_BINH)):
        section = communes[zone]
        expected = _expected_nodes(ledger, members)
        for row in section["nodes"]:
            got = {k: row[k] for k in expected[row["node_id"]]}
            assert got == pytest.approx(expected[row["node_id"]]), row["node_id"]
        tallies = _expected_tallies(ledger, members)
        assert section["by_level"] == tallies["by_level"]
        assert section["by_source"] == tallies["by_source"]
        seconds = [s for _, s in ledger.approvals[zone]]
        assert section["approvals"] == {
            "count": len(seconds),
            "median_s": statistics.median(seconds),
            "max_s": max(seconds),
        }
        assert sorted(
            (f["node_id"], f["occurrence"], f["event"], f["reason"]) for f in section["failures"]
        ) == sorted(f for f in ledger.failures if f[0] in members)
    # Each aired bulletin with its plays, airtime, author and approver.
    for zone, members in (("xa-dong-tien", DONG_TIEN), ("xa-hoa-binh", HOA_BINH)):
        want = {}
        for b in {p[2] for p in ledger.plays if p[0] in members}:
            plays = [p for p in ledger.plays if p[0] in members and p[2] == b]
            want[b] = (
                len({(p[0], p[1].split("#", 1)[0]) for p in plays}),
                sum(p[3] for p in plays),
                ledger.classes[b],
                "chu-tich" if b in {x for x, _ in ledger.approvals[zone]} else None,
            )
        got = {
            a["bulletin"]: (a["plays"], a["airtime_s"], (a["level"], a["source"]), a["approver"])
            for a in communes[zone]["aired"]
        }
        assert got == want, zone
    # Worked by hand, so the ledger itself is checked too.
    cay_thi = next(r for r in communes["xa-dong-tien"]["nodes"] if r["node_id"] == "cay-thi-1")
    assert (cay_thi["planned"], cay_thi["played"], cay_thi["failed"], cay_thi["missed"]) == (
        10,
        5,
        1,
        4,
    )
    assert cay_thi["airtime_s"] == 41 + 4 * 30
    assert communes["xa-dong-tien"]["by_level"]["emergency"] == {
        "bulletins": 1,
        "plays": 2,
        "airtime_s": 60,
    }
    assert communes["xa-dong-tien"]["by_source"]["relay"]["airtime_s"] == 1795
    assert communes["xa-hoa-binh"]["by_source"]["relay"] == {
        "bulletins": 1,
        "plays": 30,
        "airtime_s": 30 * 599,
    }
    # The province: the upstream bulletin aired in both communes is one bulletin, two
    # approvals of it are one approval.
    total = report["total"]
    both = [*DONG_TIEN, *HOA_BINH]
    tallies = _expected_tallies(ledger, both)
    assert total["by_source"] == tallies["by_source"]
    assert total["by_source"]["upstream"]["bulletins"] == 1
    assert total["by_source"]["upstream"]["plays"] == 3
    assert total["approvals"] == {"count": 2, "median_s": 2700, "max_s": 3600}
    assert total["bulletins"]["plays"] == sum(c["bulletins"]["plays"] for c in communes.values())


def test_availability_shows_the_outage(system: System) -> None:
    report = _report(system)
    rows = {r["node_id"]: r for c in report["communes"] for r in c["nodes"]}
    month_s = (MONTH_END - MONTH_START).total_seconds()
    # The last heartbeat before the outage counts for two intervals (the liveness rule), so
    # one interval into the outage.
    silent = (OUTAGE[1] - OUTAGE[0]).total_seconds() - HEARTBEAT_S
    for node, row in rows.items():
        assert row["measured_s"] == month_s, node
        expected = month_s - silent if node == "cay-thi-1" else month_s
        assert row["online_s"] == pytest.approx(expected), node
    assert rows["cay-thi-1"]["uptime_pct"] == pytest.approx(100 * (month_s - silent) / month_s)


def test_numbers_match_the_playback_log(system: System) -> None:
    """Recomputed from the log as GET /api/v1/playback-events lists it."""
    r = _api(system, "tinh", "/api/v1/playback-events?limit=10000")
    assert r.status_code == 200, r.text
    events = [e for e in r.json() if e["item_id"]]
    in_month = [e for e in events if MONTH_START <= datetime.fromisoformat(e["at"]) < MONTH_END]
    report = _report(system)
    rows = {r["node_id"]: r for c in report["communes"] for r in c["nodes"]}
    for node, row in rows.items():
        mine = sorted(
            (e for e in in_month if e["node_id"] == node), key=lambda e: (e["at"], e["seq"])
        )
        started: dict[str, datetime] = {}
        airtime = 0.0
        finished = set()
        for e in mine:
            at = datetime.fromisoformat(e["at"])
            if e["kind"] == "started":
                started[e["item_id"]] = at
            elif e["kind"] == "finished":
                airtime += (at - started.pop(e["item_id"])).total_seconds()
                finished.add(e["item_id"].split("#", 1)[0])
        unfinished = {
            e["item_id"].split("#", 1)[0]
            for e in mine
            if e["kind"] in ("failed", "missed", "skipped")
        } - finished
        assert row["airtime_s"] == pytest.approx(airtime), node
        assert row["plays"] == len(finished), node
        assert row["played"] == len(finished), node
        assert row["failed"] + row["missed"] == len(unfinished), node


def test_csv_and_xlsx_carry_the_same_figures(system: System) -> None:
    client = system.panel.as_("admin")
    r = client.get("/panel/reports/upward.csv?zone=tinh-bac-ninh&period=2026-11")
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].endswith('bao-cao-tinh-bac-ninh-2026-11.csv"')
    text = r.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["Từ ngày", "01/11/2026"]
    assert rows[2] == ["Đến hết ngày", "30/11/2026"]
    header = rows.index(["Tình hình phát theo cụm loa"]) + 1
    assert rows[header][:4] == ["Xã", "Cụm loa", "Mã cụm loa", "Kế hoạch"]
    by_node = {row[2]: row for row in rows[header + 1 : header + 8] if row and row[2]}
    report = _report(system)
    json_rows = {r["node_id"]: r for c in report["communes"] for r in c["nodes"]}
    for node, row in json_rows.items():
        assert int(by_node[node][3]) == row["planned"]
        assert int(by_node[node][5]) == row["played"]
        assert float(by_node[node][12]) == round(row["airtime_s"] / 60, 2)
    # failure times are Vietnam wall time, dd/mm/yyyy
    failures = rows.index(["Lượt phát lỗi và bị lỡ"]) + 2
    times = {row[3] for row in rows[failures : failures + 6] if len(row) > 3}
    assert "08/11/2026 12:00:01" in times  # the missed mornings, reported when back
    r = system.panel.as_("admin").get(
        "/panel/reports/upward.xlsx?zone=tinh-bac-ninh&period=2026-Q4"
    )
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == [
        "Báo cáo",
        "Cụm loa",
        "Mức độ",
        "Nguồn",
        "Lỗi và lỡ",
        "Bản tin",
        "Phê duyệt",
    ]
    approved = [
        row
        for row in book["Bản tin"].iter_rows(min_row=3, values_only=True)
        if row[0] == "Xã Hòa Bình" and row[5]
    ]
    assert [(r[2], r[3], r[5], r[6]) for r in approved] == [("Ưu tiên", "Cấp trên", "chu-tich", 1)]
    sheet = book["Nguồn"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    relay = next(v for v in values if v[0] == "Tỉnh Bắc Ninh" and v[1] == "Tiếp sóng")
    assert relay[2:] == [2, 31, round((1795 + 30 * 599) / 60, 2)]


def test_scope_commune_user_sees_only_its_commune(system: System) -> None:
    assert (
        _api(system, "viewer", "/api/v1/reports/upward/xa-dong-tien?period=2026-11").status_code
        == 200
    )
    for zone in ("tinh-bac-ninh", "xa-hoa-binh", "xa-vi-huong", "nowhere"):
        r = _api(system, "viewer", f"/api/v1/reports/upward/{zone}?period=2026-11")
        assert r.status_code == 404, (zone, r.text)
    client = system.panel.as_("operator")
    assert client.get("/panel/reports/monthly?zone=xa-dong-tien&period=2026-11").status_code == 200
    for path in (
        "/panel/reports/monthly?zone=tinh-bac-ninh&period=2026-11",
        "/panel/reports/upward.csv?zone=xa-hoa-binh&period=2026-11",
        "/panel/reports/upward.xlsx?zone=tinh-bac-ninh&period=2026-11",
    ):
        assert client.get(path).status_code == 404, path
    page = client.get("/panel/reports/monthly").text
    assert 'value="xa-dong-tien"' in page and 'value="tinh-bac-ninh"' not in page


def test_scope_province_user_gets_its_communes(system: System) -> None:
    assert [c["zone_id"] for c in _report(system)["communes"]] == ["xa-dong-tien", "xa-hoa-binh"]
    assert _report(system, "xa-hoa-binh")["total"]["nodes"][0]["node_id"] == "hoa-binh-1"
    r = _api(system, "tinh", "/api/v1/reports/upward/xa-vi-huong?period=2026-11")
    assert r.status_code == 404
    r = _api(system, "tinh", "/api/v1/reports/upward/tinh-bac-ninh?period=2026-13")
    assert r.status_code == 422 and "month" in r.text


def test_page_shows_quarter_and_province(system: System) -> None:
    client = system.panel.as_("admin")
    html = client.get("/panel/reports/monthly?zone=tinh-bac-ninh&kind=quarter&quarter=2026-Q4").text
    assert "quý 4/2026" in html
    assert html.count('class="card report-section"') == 3  # two communes and the province
    assert 'href="/panel/reports/upward.xlsx?zone=tinh-bac-ninh&amp;period=2026-Q4"' in html
