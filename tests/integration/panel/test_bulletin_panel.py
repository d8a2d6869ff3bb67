"""The panel's bulletin form (issue 18): only users above a commune may send, through the same
service as the API; and the inbox's "lên"/"xuống" buttons reorder only the priority items at
the head of a slot run. A real app (SQLite, Mosquitto, espeak-ng) shared by the module."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from integration.panel.panel_support import CSRF, PASSWORD, Panel
from sqlalchemy import select

from controller.auth.users import create_user
from controller.db.models import Bulletin
from controller.services.bulletins import slot_head
from controller.services.schedule_editing import build_slot
from controller.services.schedule_store import save_slot
from schedules.local_time import to_local_naive

pytestmark = pytest.mark.integration

SLOT = "ban-tin-uu-tien"


def _ctl(panel: Panel) -> Any:
    return panel.client.app.state.controller  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def province(panel: Panel) -> Panel:
    """An operator of Tỉnh Bắc Ninh (above xã Đồng Tiến, not above xã Vi Hương)."""
    ctl = _ctl(panel)
    with ctl.sessions.begin() as session:
        create_user(
            session,
            username="province",
            password=PASSWORD,
            role="operator",
            now=ctl.clock.now(),
            communes=["tinh-bac-ninh"],
            all_communes=False,
            must_change_password=False,
        )
    return panel


def _send(panel: Panel, level: str, text: str, token: str = "") -> Any:
    client = panel.as_("province")
    data = {"csrf": panel.csrf["province"], "level": level, "text": text}
    data |= {"communes": ["xa-dong-tien"], "token": token}
    return client.post("/panel/bulletins", data=data)


def test_only_users_above_a_commune_get_the_form(province: Panel) -> None:
    for role in ("operator", "viewer", "other"):
        client = province.as_(role)
        assert 'href="/panel/bulletins/new"' not in client.get("/panel/inbox").text
        assert client.get("/panel/bulletins/new").status_code == 403
    data = {"csrf": province.csrf["operator"], "text": "x", "communes": "xa-dong-tien"}
    operator = province.as_("operator")
    assert operator.post("/panel/bulletins", data=data).status_code == 403
    with _ctl(province).sessions() as session:
        assert session.scalar(select(Bulletin.id)) is None  # nothing was sent
    client = province.as_("province")
    form = client.get("/panel/bulletins/new")
    assert form.status_code == 200
    assert 'value="xa-dong-tien"' in form.text and "Xã Đồng Tiến" in form.text
    assert 'value="xa-vi-huong"' not in form.text  # not below Bắc Ninh
    assert 'href="/panel/bulletins/new"' in client.get("/panel/").text  # the nav entry
    # a commune outside the scope, typed into the post by hand: refused, nothing sent
    data = {"csrf": province.csrf["province"], "text": "x", "communes": "xa-vi-huong"}
    assert client.post("/panel/bulletins", data=data).status_code == 403
    bad = _send(province, "normal", "")
    assert bad.status_code == 422 and "nội dung" in bad.text


def test_an_emergency_bulletin_needs_the_second_step(province: Panel) -> None:
    first = _send(province, "emergency", "Khẩn cấp: lũ về, sơ tán ngay.")
    assert first.status_code == 200 and 'name="token"' in first.text
    with _ctl(province).sessions() as session:
        assert session.scalar(select(Bulletin.id).where(Bulletin.level == "emergency")) is None
    forged = _send(province, "emergency", "Khẩn cấp: lũ về, sơ tán ngay.", token="x.y")
    assert forged.status_code == 400
    token = re.search(r'name="token" value="([^"]+)"', first.text)
    assert token
    other_text = _send(province, "emergency", "Khẩn cấp: nội dung khác.", token.group(1))
    assert other_text.status_code == 400  # the token is bound to the confirmed content
    sent = _send(province, "emergency", "Khẩn cấp: lũ về, sơ tán ngay.", token.group(1))
    assert (sent.status_code, sent.headers["location"]) == (303, "/panel/inbox?done=sent")
    with _ctl(province).sessions() as session:
        row = session.scalars(select(Bulletin).where(Bulletin.level == "emergency")).one()
        assert row.emergency_id and row.source_zone_id == "tinh-bac-ninh"
        assert [d.zone_id for d in row.deliveries] == ["xa-dong-tien"]


@pytest.fixture(scope="module")
def slot_run(province: Panel) -> str:
    """A daily slot whose next run starts in 20 minutes; returns that run's start (UTC)."""
    ctl = _ctl(province)
    run = ctl.clock.now().replace(second=0, microsecond=0) + timedelta(minutes=20)
    local = to_local_naive(run)
    slot = build_slot(
        {
            "id": SLOT,
            "title": "Bản tin ưu tiên",
            "rule": {
                "freq": "daily",
                "time": local.strftime("%H:%M"),
                "start_date": (local.date() - timedelta(days=1)).isoformat(),
            },
            "duration_s": 1800,
        }
    )
    with ctl.sessions.begin() as session:
        save_slot(session, slot, ctl.clock.now())
    return run.isoformat()


def _head(panel: Panel, start: str) -> list[int]:
    with _ctl(panel).sessions() as session:
        return slot_head(session, "xa-dong-tien", SLOT, datetime.fromisoformat(start))


def test_operators_move_priority_items_up_and_down(province: Panel, slot_run: str) -> None:
    for text in ("Ưu tiên một.", "Ưu tiên hai."):
        r = _send(province, "priority", text)
        assert (r.status_code, r.headers["location"]) == (303, "/panel/inbox?done=sent"), r.text
    first, second = _head(province, slot_run)
    client = province.as_("operator")
    page = client.get("/panel/inbox")
    assert "thứ 1 trong các tin ưu tiên" in page.text and ">lên</button>" in page.text
    move = {"zone_id": "xa-dong-tien", "slot_id": SLOT, "start": slot_run}
    data = move | {"csrf": province.csrf["operator"], "announcement_id": first, "move": "down"}
    r = client.post("/panel/inbox/slot-order", data=data)
    assert (r.status_code, r.headers["location"]) == (303, "/panel/inbox?done=reordered")
    assert _head(province, slot_run) == [second, first]
    data |= {"announcement_id": first, "move": "up"}
    assert client.post("/panel/inbox/slot-order", data=data).status_code == 303
    assert _head(province, slot_run) == [first, second]
    # another commune's operator: not found, and nothing moves
    other = province.as_("other")
    data |= {"csrf": province.csrf["other"], "move": "down"}
    assert other.post("/panel/inbox/slot-order", data=data).status_code == 404
    assert _head(province, slot_run) == [first, second]
    # an item that is not a priority item of that run cannot be moved (not found)
    client = province.as_("operator")
    data |= {"csrf": province.csrf["operator"], "announcement_id": 999999}
    assert client.post("/panel/inbox/slot-order", data=data).status_code == 404
    assert CSRF.search(client.get("/panel/inbox").text)
