"""The monthly report over a seeded month: one-off, daily, cancelled, play-now, emergency.

"Played of planned" must never pass 100 %, each day of a daily announcement is planned
once, play-now items and emergencies are planned where they were sent, and the played
figure is exactly what the playback log shows for the month.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from integration.panel.panel_support import Panel, PlaybackReports, store_ad_hoc
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import (
    Announcement,
    AnnouncementTarget,
    Zone,
)
from controller.panel.queries import playback_log as log_q
from controller.services.reports import upward
from controller.services.reports.period import Period
from controller.services.reports.plan import REPORTED_PREFIXES, occurrence_key
from protocol.models import CommandAction
from schedules.local_time import local_naive_to_utc

pytestmark = pytest.mark.integration

NODES = ["dong-an-1", "cay-thi-1", "khe-ngo-1"]
MONTH = date(2026, 11, 1)


def _local(day: int, hour: int, month: int = 11) -> datetime:
    return local_naive_to_utc(datetime(2026, month, day, hour, 0))


def _occ(ann_id: int, at: datetime, index: int = 0) -> str:
    return f"ann-{ann_id}@{at.astimezone(UTC):%Y%m%dT%H%M%SZ}#{index}"


def _build(session: Session, ctl: Any) -> upward.Section:
    zone = session.get_one(Zone, "xa-dong-tien")
    report = upward.build(
        session,
        zone,
        Period.month_of(MONTH),
        ctl.clock.now(),
        heartbeat_interval_s=30,
        heartbeat_keep=timedelta(days=30),
    )
    return report.communes[0]


class Month:
    """Seeds the month and remembers the expected figures per node."""

    def __init__(self, panel: Panel) -> None:
        self.ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
        self.reports = PlaybackReports(self.ctl)
        self.created = _local(1, 0) - timedelta(days=5)

    def announcement(
        self,
        *,
        start: datetime,
        rule: dict[str, object] | None,
        zones: list[str] = (),  # type: ignore[assignment]
        nodes: list[str] = (),  # type: ignore[assignment]
        repeat: int = 1,
        valid_until: datetime | None = None,
        cancelled_at: datetime | None = None,
    ) -> int:
        with self.ctl.sessions.begin() as session:
            ann = Announcement(
                kind="tts",
                title="Họp bản",
                text="Kính thưa bà con, họp bản.",
                duration_s=20,
                priority=2,
                repeat=repeat,
                start=start,
                rule=rule,
                valid_until=valid_until,
                created_at=self.created,
                cancelled_at=cancelled_at,
            )
            ann.targets = [AnnouncementTarget(zone_id=z) for z in zones] + [
                AnnouncementTarget(node_id=n) for n in nodes
            ]
            session.add(ann)
            session.flush()
            return ann.id

    def ad_hoc(self, action: CommandAction, prefix: str, at: datetime, nodes: list[str]) -> str:
        item_id = f"{prefix}-{uuid.uuid4().hex[:12]}"
        store_ad_hoc(self.ctl, action, item_id, at, nodes)
        return item_id

    def event(self, node: str, kind: str, item_id: str, at: datetime) -> None:
        self.reports.add(node, kind, item_id, at)


@pytest.fixture(scope="module")
def month(panel: Panel) -> dict[str, tuple[int, int, int, int]]:
    """Seeds November 2026; returns node -> expected (planned, ad_hoc, played, failed)."""
    m = Month(panel)
    # One-off, whole commune, played twice in one occurrence (repeat 2): one planned item.
    once_at = _local(5, 7)
    once = m.announcement(start=once_at, rule=None, zones=["xa-dong-tien"], repeat=2)
    for node in NODES:
        m.event(node, "started", _occ(once, once_at), once_at)
        m.event(node, "finished", _occ(once, once_at, 0), once_at + timedelta(seconds=20))
        m.event(node, "finished", _occ(once, once_at, 1), once_at + timedelta(seconds=40))
    # Daily at 06:00 on dong-an-1 from the 10th, valid until the 20th: ten occurrences;
    # eight finished, one missed, one never reported.
    daily_first = _local(10, 6)
    daily = m.announcement(
        start=daily_first,
        rule={"freq": "daily", "start_date": "2026-11-10", "time": "06:00"},
        nodes=["dong-an-1"],
        valid_until=_local(20, 0),
    )
    for day in range(10):
        at = daily_first + timedelta(days=day)
        if day < 8:
            m.event("dong-an-1", "finished", _occ(daily, at), at + timedelta(seconds=20))
        elif day == 8:
            m.event("dong-an-1", "missed", _occ(daily, at), at + timedelta(minutes=5))
    # Daily 18:00 on Bản Khe Ngò from the 20th, cancelled on the 25th at 00:00: five days.
    cancelled_first = _local(20, 18)
    cancelled = m.announcement(
        start=cancelled_first,
        rule={"freq": "daily", "start_date": "2026-11-20", "time": "18:00"},
        zones=["ban-khe-ngo"],
        cancelled_at=_local(25, 0),
    )
    for day in range(5):
        at = cancelled_first + timedelta(days=day)
        m.event("khe-ngo-1", "finished", _occ(cancelled, at), at + timedelta(seconds=20))
    # Daily 07:00 on cay-thi-1 since October: thirty occurrences in November (one more on
    # the 1st of December is outside), each played; the last one reported after midnight.
    october = m.announcement(
        start=_local(20, 7, month=10),
        rule={"freq": "daily", "start_date": "2026-10-20", "time": "07:00"},
        nodes=["cay-thi-1"],
    )
    for day in range(31):
        at = _local(1, 7) + timedelta(days=day)
        m.event("cay-thi-1", "finished", _occ(october, at), at + timedelta(seconds=20))
    m.event("cay-thi-1", "finished", _occ(october, _local(31, 7, 10)), _local(31, 8, 10))
    # Play now on the 7th to dong-an-1 and cay-thi-1 (only dong-an-1 finished);
    # an emergency on the 8th to all three, replayed three times, failed on khe-ngo-1.
    now_item = m.ad_hoc(CommandAction.PLAY_NOW, "now", _local(7, 9), ["dong-an-1", "cay-thi-1"])
    m.event("dong-an-1", "finished", now_item, _local(7, 9) + timedelta(seconds=15))
    emg = m.ad_hoc(CommandAction.EMERGENCY, "emg", _local(8, 14), NODES)
    for node in NODES[:2]:
        for k in range(3):
            m.event(node, "finished", emg, _local(8, 14) + timedelta(minutes=k))
    m.event("khe-ngo-1", "failed", emg, _local(8, 14))
    # An item of a since-edited announcement, and a programme pause: not in the rate.
    m.event("khe-ngo-1", "finished", "ann-999@20261103T000000Z#0", _local(3, 7))
    m.event("khe-ngo-1", "finished", "roles-move@20261103T000000Z#0", _local(3, 7))
    return {
        # once + 10 daily + now + emergency; played: once, 8 daily, now, emergency
        "dong-an-1": (13, 2, 11, 1),
        # once + 30 october-daily + now + emergency; played: all but the play-now
        "cay-thi-1": (33, 2, 32, 0),
        # once + 5 cancelled-daily + emergency; the emergency failed
        "khe-ngo-1": (7, 1, 6, 1),
    }


def test_played_of_planned_per_node(
    panel: Panel, month: dict[str, tuple[int, int, int, int]]
) -> None:
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        report = _build(session, ctl)
    got = {r.node_id: (r.planned, r.ad_hoc, r.played, r.failed + r.missed) for r in report.nodes}
    assert got == month
    assert {r.node_id: r.other for r in report.nodes} == {
        "dong-an-1": 0,
        "cay-thi-1": 0,
        "khe-ngo-1": 1,
    }
    for row in [*report.nodes, report.node_total]:
        assert row.rate is not None and row.rate <= 1.0


def test_played_matches_the_playback_log(
    panel: Panel, month: dict[str, tuple[int, int, int, int]]
) -> None:
    """Distinct finished occurrences in the log (same month filter) = played + other."""
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    last_day = date(2026, 11, 30)
    with ctl.sessions() as session:
        report = _build(session, ctl)
        for row in report.nodes:
            flt = log_q.LogFilter(
                node=row.node_id, date_from=MONTH, date_to=last_day, status="finished"
            )
            rows = log_q.page(session, Scope(True, frozenset(), frozenset()), flt, size=10_000).rows
            keys = {
                occurrence_key(r.item_id)
                for r in rows
                if r.item_id and r.item_id.startswith(REPORTED_PREFIXES)
            }
            assert len(keys) == row.played + row.other, row.node_id


def test_report_page_never_shows_more_than_100_percent(
    panel: Panel, month: dict[str, tuple[int, int, int, int]]
) -> None:
    html = (
        panel.as_("operator").get("/panel/reports/monthly?commune=xa-dong-tien&month=2026-11").text
    )
    rates = [int(v) for v in re.findall(r">(\d+)%<", html)]
    assert len(rates) == 4  # three nodes and the total
    assert max(rates) <= 100
    assert rates[-1] == round(100 * (11 + 32 + 6) / (13 + 33 + 7))
