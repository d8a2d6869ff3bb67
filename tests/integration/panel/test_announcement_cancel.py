"""Cancelling an announcement asks first, says it is done, and is not offered once played."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from integration.panel.panel_support import Panel

from controller.db.models import Announcement, AnnouncementTarget
from controller.panel.timefmt import LOCAL

pytestmark = pytest.mark.integration


def _store(panel: Panel, title: str, start_offset: timedelta) -> int:
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    now = ctl.clock.now()
    with ctl.sessions.begin() as session:
        ann = Announcement(
            kind="silence",
            title=title,
            duration_s=30,
            start=now + start_offset,
            created_at=now,
            created_by="operator",
            targets=[AnnouncementTarget(zone_id="ban-dong-an")],
        )
        session.add(ann)
        session.flush()
        return ann.id


def _cancelled(panel: Panel, ann_id: int) -> bool:
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        ann = session.get(Announcement, ann_id)
        return ann is not None and ann.cancelled_at is not None


def test_cancel_asks_then_confirms_with_a_message(panel: Panel) -> None:
    ann_id = _store(panel, "Họp chi bộ tối nay", timedelta(hours=3))
    client = panel.as_("operator")
    listing = client.get("/panel/announcements").text
    assert f'href="/panel/announcements/{ann_id}/cancel"' in listing
    # a bare POST (one click, or an old page) only leads to the question
    bare = client.post(
        f"/panel/announcements/{ann_id}/cancel", data={"csrf": panel.csrf["operator"]}
    )
    assert bare.status_code == 303
    assert bare.headers["location"] == f"/panel/announcements/{ann_id}/cancel"
    assert not _cancelled(panel, ann_id)
    question = client.get(bare.headers["location"])
    assert question.status_code == 200
    assert "Họp chi bộ tối nay" in question.text and "Bản Đồng An" in question.text
    assert 'name="confirm" value="yes"' in question.text
    done = client.post(
        f"/panel/announcements/{ann_id}/cancel",
        data={"csrf": panel.csrf["operator"], "confirm": "yes"},
    )
    assert done.status_code == 303 and _cancelled(panel, ann_id)
    page = client.get(done.headers["location"]).text
    assert "Đã hủy thông báo «Họp chi bộ tối nay»" in page
    # the viewer cannot even see the question; another commune's operator does not find it
    assert panel.as_("viewer").get(f"/panel/announcements/{ann_id}/cancel").status_code == 403
    assert panel.as_("other").get(f"/panel/announcements/{ann_id}/cancel").status_code == 404


def test_a_played_announcement_offers_no_cancel_and_refuses_one(panel: Panel) -> None:
    ann_id = _store(panel, "Thông báo sáng nay", -timedelta(hours=2))
    client = panel.as_("operator")
    listing = client.get("/panel/announcements").text
    row = re.search(rf'<tr[^>]*data-ann="{ann_id}"[^>]*>(?:(?!</tr>).)*</tr>', listing, re.S)
    assert row, listing
    assert "/cancel" not in row.group(0) and "Đã phát" in row.group(0)
    refused = client.get(f"/panel/announcements/{ann_id}/cancel")
    assert refused.status_code == 409 and "đã phát xong" in refused.text
    forced = client.post(
        f"/panel/announcements/{ann_id}/cancel",
        data={"csrf": panel.csrf["operator"], "confirm": "yes"},
    )
    assert forced.status_code == 409 and not _cancelled(panel, ann_id)


def test_the_confirmation_shows_local_time(panel: Panel) -> None:
    ann_id = _store(panel, "Giờ địa phương", timedelta(hours=5))
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        ann = session.get_one(Announcement, ann_id)
        local = ann.start.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")
    assert local in panel.as_("operator").get(f"/panel/announcements/{ann_id}/cancel").text
