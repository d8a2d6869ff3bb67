"""The dashboard's "playing" count and list come from one query of what speakers reported:
they agree, an emergency on air is shown, and a finished single-play emergency is not."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from integration.panel.panel_support import Panel, PlaybackReports, store_emergency
from sqlalchemy import update

from controller.db.models import (
    Announcement,
    AnnouncementTarget,
    Node,
)

pytestmark = pytest.mark.integration

NODES = ["dong-an-1", "cay-thi-1", "khe-ngo-1"]


class Speakers:
    def __init__(self, panel: Panel) -> None:
        self.ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
        self.reports = PlaybackReports(self.ctl)

    def online(self) -> None:
        now = self.ctl.clock.now()
        with self.ctl.sessions.begin() as session:
            session.execute(
                update(Node)
                .where(Node.id.in_(NODES))
                .values(online=True, last_heartbeat_at=now, status_changed_at=now)
            )

    def report(self, node: str, kind: str, item: str, ago_s: float = 0, detail: str = "") -> None:
        at = self.ctl.clock.now() - timedelta(seconds=ago_s)
        self.reports.add(node, kind, item, at, detail)


def _board(panel: Panel) -> tuple[int, list[str], str]:
    """(the count, the speaker names listed under "playing", the emergency banner)."""
    html = panel.as_("viewer").get("/panel/live").text
    count = re.search(r'id="count-playing">(\d+)<', html)
    assert count, html
    on_air = html.split('id="on-air">')[1].split("</div>")[0]
    names = re.findall(r"(Loa nhà văn hóa [^(,<]+?) \(từ", on_air)
    banner = re.search(r'id="dash-emergency">(.*?)</div>', html, re.S)
    return int(count.group(1)), names, banner.group(1) if banner else ""


def test_count_list_and_emergency_agree_with_what_speakers_report(panel: Panel) -> None:
    speakers = Speakers(panel)
    ctl = speakers.ctl
    now = ctl.clock.now()
    store_emergency(
        ctl,
        "d1",
        "Lũ quét ở suối Khe Ngọ",
        "emg-d1",
        now,
        40,
        now + timedelta(minutes=10),  # still "active" after it finished
    )
    with ctl.sessions.begin() as session:
        ann = Announcement(
            kind="silence",
            title="Bản tin ngắn",
            duration_s=20,
            start=now - timedelta(minutes=10),
            created_at=now,
            targets=[AnnouncementTarget(zone_id="ban-khe-ngo")],
        )
        session.add(ann)
        session.flush()
        ann_item = f"ann-{ann.id}@{ann.start:%Y%m%dT%H%M%SZ}#0"
    speakers.online()
    assert _board(panel) == (0, [], "")
    # khe-ngo-1 started a 20 s announcement 10 minutes ago and its "finished" was lost
    speakers.report("khe-ngo-1", "started", ann_item, ago_s=600)
    assert _board(panel) == (0, [], "")
    # the emergency starts on two speakers
    speakers.report("dong-an-1", "started", "emg-d1", ago_s=5)
    speakers.report("cay-thi-1", "started", "emg-d1", ago_s=4)
    count, names, banner = _board(panel)
    assert count == 2 == len(names)
    assert sorted(names) == ["Loa nhà văn hóa Cây Thị", "Loa nhà văn hóa Đồng An"]
    assert "Lũ quét ở suối Khe Ngọ" in banner and 'href="/panel/emergency/d1"' in banner
    # one finishes: count and list drop together
    speakers.report("dong-an-1", "finished", "emg-d1")
    count, names, banner = _board(panel)
    assert (count, names) == (1, ["Loa nhà văn hóa Cây Thị"]) and banner
    # the single play is over everywhere: not shown as playing, though not yet expired
    speakers.report("cay-thi-1", "finished", "emg-d1")
    assert _board(panel) == (0, [], "")


def test_recent_failures_read_as_names_and_words(panel: Panel) -> None:
    speakers = Speakers(panel)
    speakers.reports.seq = 1000  # after the first test's events
    speakers.report(
        "khe-ngo-1", "missed", "ann-424242@20261201T000000Z#0", 30, "slot passed without playing"
    )
    html = panel.as_("viewer").get("/panel/live").text
    failures = html.split("Lỗi phát gần đây")[1].split("</section>")[0]
    assert "Loa nhà văn hóa Khe Ngọ" in failures and "Lỡ giờ" in failures
    assert "Hết giờ phát mà chưa phát được" in failures and "slot passed" not in failures
