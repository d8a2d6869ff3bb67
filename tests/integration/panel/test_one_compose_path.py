"""The panel's compose form and the JSON API make the same announcement for the same input.

Both go through ``services.announcing.create_announcement``; these tests compare the stored
rows field by field, the approval state and the audit entry, so a second path that builds
its own row (and drifts) fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from integration.panel.conftest import seeded_panel
from integration.panel.panel_support import Panel
from sqlalchemy import select

from controller.broker.process import MosquittoProcess
from controller.db.models import Announcement, AnnouncementVariant, AuditEntry, Media, Zone
from controller.panel import vn_dates
from controller.services.container import Controller

pytestmark = pytest.mark.integration
TEXT = "Mời bà con thôn Đông An họp lúc bảy giờ tối.\nMang theo sổ hộ khẩu."
NOW_TEXT = "Thông báo mất điện từ chín giờ sáng."
BOARD = "Họp thôn lúc 19:00"


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory, broker: MosquittoProcess) -> Iterator[Panel]:
    """Bản Đồng An needs approval before air (its neighbour Bản Cây Thị does not)."""
    with seeded_panel(tmp_path_factory.mktemp("one-path"), broker) as built:
        ctl = _ctl(built)
        with ctl.sessions.begin() as session:
            session.get(Zone, "ban-dong-an").needs_approval = True  # type: ignore[union-attr]
        yield built


def _ctl(panel: Panel) -> Controller:
    ctl: Controller = panel.client.app.state.controller  # type: ignore[attr-defined]
    return ctl


def _api(panel: Panel, role: str, body: dict[str, Any]) -> int:
    client: TestClient = panel.as_(role)
    r = client.post("/api/v1/announcements", json=body, headers={"X-CSRF-Token": panel.csrf[role]})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _form(panel: Panel, role: str, form: dict[str, Any]) -> int:
    before = _newest(panel)
    r = panel.as_(role).post("/panel/announcements", data={"csrf": panel.csrf[role], **form})
    assert r.status_code == 303, r.text
    created = _newest(panel)
    assert created != before
    return created


def _newest(panel: Panel) -> int:
    with _ctl(panel).sessions() as session:
        return session.scalar(select(Announcement.id).order_by(Announcement.id.desc())) or 0


IGNORED = {"id", "created_at", "submitted_at", "start"}


def _record(panel: Panel, ann_id: int) -> dict[str, Any]:
    """Every column but the id and times, the targets, languages and the audit entry."""
    with _ctl(panel).sessions() as session:
        ann = session.get(Announcement, ann_id)
        assert ann is not None
        row = {c.key: getattr(ann, c.key) for c in Announcement.__table__.columns}
        row = {k: v for k, v in row.items() if k not in IGNORED}
        row["targets"] = sorted((t.zone_id, t.node_id) for t in ann.targets)
        row["languages"] = [
            v.language
            for v in session.scalars(
                select(AnnouncementVariant).where(AnnouncementVariant.announcement_id == ann_id)
            )
        ]
        row["submitted"] = ann.submitted_at is not None
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.target == f"announcement:{ann_id}")
        ).all()
        row["audit"] = [
            (a.action, a.username, a.detail.split(" start=")[0], a.detail.split(" text=")[1])
            for a in audit
        ]
        return row


def test_an_announcement_at_a_time_is_the_same_from_the_panel_and_the_api(panel: Panel) -> None:
    at = (_ctl(panel).clock.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    from_panel = _form(
        panel,
        "operator",
        {
            "text": TEXT,
            "title": "  Họp thôn  ",
            "targets": "ban-dong-an",
            "when": "at",
            "at": vn_dates.fmt_local_datetime(at),
            "internal": "1",
            "board_on": "1",
            "board_text": BOARD,
        },
    )
    from_api = _api(
        panel,
        "operator",
        {
            "text": TEXT,
            "title": "  Họp thôn  ",
            "targets": ["ban-dong-an"],
            "start": at.isoformat(),
            "internal": True,
            "visual": {"text": BOARD},
        },
    )
    panel_row, api_row = _record(panel, from_panel), _record(panel, from_api)
    assert panel_row == api_row
    assert api_row["approval"] == "pending" and api_row["submitted"]  # the commune holds it
    assert api_row["title"] == "Họp thôn" and api_row["internal"] is True
    assert api_row["visual"] is not None and api_row["visual"]["text"] == BOARD
    assert api_row["audit"] == [
        ("announcement.create", "operator", "targets=ban-dong-an", TEXT[:200])
    ]
    with _ctl(panel).sessions() as session:
        starts = [session.get(Announcement, i).start for i in (from_panel, from_api)]  # type: ignore[union-attr]
    assert starts == [at, at]


def test_now_queues_behind_what_is_planned_from_the_panel_as_from_the_api(panel: Panel) -> None:
    """A "now" announcement waits for one already planned on its nodes, whichever path."""
    first = _api(panel, "operator", {"text": NOW_TEXT, "targets": ["ban-cay-thi"]})
    from_panel = _form(
        panel, "operator", {"text": NOW_TEXT, "targets": "ban-cay-thi", "when": "now"}
    )
    from_api = _api(panel, "operator", {"text": NOW_TEXT, "targets": ["ban-cay-thi"]})
    with _ctl(panel).sessions() as session:
        rows = [session.get(Announcement, i) for i in (first, from_panel, from_api)]
        spans = [(a.start, a.start + timedelta(seconds=a.duration_s)) for a in rows if a]
    slack = timedelta(milliseconds=10)  # playlist items carry rounded times
    assert spans[1][0] >= spans[0][1] - slack  # the panel's queued behind the first
    assert spans[2][0] >= spans[1][1] - slack  # and the API's behind the panel's
    assert _record(panel, from_panel) == _record(panel, from_api)
    assert _record(panel, from_api)["approval"] == "not_required"


def test_a_recording_is_the_same_from_the_panel_and_the_api(panel: Panel) -> None:
    """An uploaded recording airs as it is (kind audio) from either path, text optional."""
    from_speech = _api(panel, "operator", {"text": NOW_TEXT, "targets": ["ban-cay-thi"]})
    with _ctl(panel).sessions() as session:
        sha = session.get(Announcement, from_speech).media_sha256  # type: ignore[union-attr]
    at = (_ctl(panel).clock.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    form = {"media_sha256": sha, "targets": "ban-cay-thi", "when": "at"}
    from_panel = _form(panel, "operator", form | {"at": vn_dates.fmt_local_datetime(at)})
    from_api = _api(
        panel,
        "operator",
        {"text": "", "media_sha256": sha, "targets": ["ban-cay-thi"], "start": at.isoformat()},
    )
    panel_row, api_row = _record(panel, from_panel), _record(panel, from_api)
    assert panel_row == api_row
    assert api_row["kind"] == "audio" and api_row["text"] is None
    with _ctl(panel).sessions() as session:
        media = session.get(Media, sha)
        assert media is not None
        assert api_row["title"] == f"{sha[:8]}.{media.ext}"  # no text: the file's name
        assert api_row["duration_s"] == media.duration_s
