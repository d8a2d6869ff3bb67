"""Recurring announcements from the compose form, and the week view's cancel and move.

A real controller (SQLite, Mosquitto, espeak-ng): the operator of xã Đồng Tiến composes a
weekly announcement for next week, sees its compiled occurrences in the week, checks a
clashing second one, moves it, and cancels it; a viewer is refused (403) and the operator
of xã Vi Hương does not find it (404).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from integration.panel.panel_support import Panel
from sqlalchemy import select

from controller.db.models import Announcement, AuditEntry
from controller.panel.timefmt import today_local

pytestmark = pytest.mark.integration

ZONE = "xa-dong-tien"


def _next_monday(panel: Panel) -> date:
    today = today_local(panel.client.app.state.controller.clock.now())  # type: ignore[attr-defined]
    return today + timedelta(days=7 - today.weekday())


def _week(panel: Panel, role: str, monday: date) -> str:
    r = panel.as_(role).get(f"/panel/schedule?zone={ZONE}&start={monday.isoformat()}")
    assert r.status_code == 200, r.text
    return r.text


def _slots(html: str, entry: str) -> list[str]:
    """The ``HH:MM:SS`` start of each occurrence of ``entry`` shown in the week."""
    pattern = rf'data-entry="{re.escape(entry)}">\s*<p>(\d\d:\d\d:\d\d)–'
    return re.findall(pattern, html)


def _compose(panel: Panel, monday: date, **extra: object) -> dict[str, object]:
    form: dict[str, object] = {
        "csrf": panel.csrf["operator"],
        "text": "Họp thôn tối thứ Hai, Tư, Sáu.",
        "targets": ["ban-dong-an"],
        "when": "recurring",
        "freq": "weekly",
        "weekdays": ["MO", "WE", "FR"],
        "time_of_day": "06:15",
        "from_date": monday.isoformat(),
        "until": (monday + timedelta(days=13)).isoformat(),
    }
    return form | extra


@pytest.fixture(scope="module")
def recurring(panel: Panel) -> int:
    """The operator saves a weekly announcement (Mon, Wed, Fri at 06:15) through the form."""
    monday = _next_monday(panel)
    client = panel.as_("operator")
    r = client.post("/panel/announcements", data=_compose(panel, monday))
    assert r.status_code == 303, r.text
    match = re.search(r"created=(\d+)", r.headers["location"])
    assert match
    return int(match.group(1))


def test_the_form_stores_a_weekly_rule_and_its_first_play(panel: Panel, recurring: int) -> None:
    monday = _next_monday(panel)
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        ann = session.get(Announcement, recurring)
        assert ann is not None and ann.rule is not None
        assert ann.rule["freq"] == "weekly" and ann.rule["weekdays"] == ["MO", "WE", "FR"]
        assert ann.rule["end_date"] == (monday + timedelta(days=13)).isoformat()
        # 06:15 in Vietnam (UTC+7) is 23:15 UTC the evening before
        assert ann.start.isoformat().startswith(f"{monday - timedelta(days=1)}T23:15")


def test_the_week_shows_each_compiled_occurrence(panel: Panel, recurring: int) -> None:
    monday = _next_monday(panel)
    html = _week(panel, "viewer", monday)
    assert _slots(html, f"ann-{recurring}") == ["06:15:00"] * 3
    # the weekly days are Monday, Wednesday, Friday of that week
    days = re.findall(
        r'aria-label="[^"]* (\d\d/\d\d)">(?:(?!</section>).)*?ann-' + str(recurring),
        html,
        flags=re.S,
    )
    assert days == [(monday + timedelta(days=d)).strftime("%d/%m") for d in (0, 2, 4)]
    # the week after the last date (until = second Sunday) is empty of it
    assert _slots(_week(panel, "viewer", monday + timedelta(days=14)), f"ann-{recurring}") == []


def test_viewer_sees_no_controls_operator_does(panel: Panel, recurring: int) -> None:
    monday = _next_monday(panel)
    assert 'action="/panel/schedule/move"' not in _week(panel, "viewer", monday)
    assert 'action="/panel/schedule/cancel"' in _week(panel, "operator", monday)


def test_a_clashing_recurring_announcement_is_reported_before_saving(
    panel: Panel, recurring: int
) -> None:
    monday = _next_monday(panel)
    client = panel.as_("operator")
    params = {k: v for k, v in _compose(panel, monday).items() if k not in ("csrf", "text")}
    params |= {"weekdays": ["WE"], "duration_s": 30}
    r = client.get("/panel/announcements/conflicts", params=params)
    assert r.status_code == 200, r.text
    refs = {c["ref"] for c in r.json()["conflicts"]}
    assert refs == {f"ann-{recurring}"}
    # a different time of day does not clash
    r = client.get("/panel/announcements/conflicts", params=params | {"time_of_day": "09:00"})
    assert r.json()["conflicts"] == []


def test_a_one_off_clashing_with_a_recurring_entry_is_reported(
    panel: Panel, recurring: int
) -> None:
    """The one-off check sees the whole calendar, not only other one-off announcements."""
    monday = _next_monday(panel)
    wednesday = monday + timedelta(days=2)
    client = panel.as_("operator")
    params = {"targets": ["ban-dong-an"], "when": "at", "duration_s": 30}
    r = client.get("/panel/announcements/conflicts", params=params | {"at": f"{wednesday}T06:15"})
    assert r.status_code == 200, r.text
    assert f"ann-{recurring}" in {c["ref"] for c in r.json()["conflicts"]}
    r = client.get("/panel/announcements/conflicts", params=params | {"at": f"{wednesday}T09:00"})
    assert f"ann-{recurring}" not in {c["ref"] for c in r.json()["conflicts"]}


def test_a_bad_recurrence_is_refused_with_its_reason(panel: Panel) -> None:
    monday = _next_monday(panel)
    client = panel.as_("operator")
    r = client.post("/panel/announcements", data=_compose(panel, monday, weekdays=[]))
    assert r.status_code == 422 and "hãy chọn ít nhất một ngày trong tuần" in r.text
    until = (monday - timedelta(days=1)).isoformat()
    r = client.post("/panel/announcements", data=_compose(panel, monday, until=until))
    assert r.status_code == 422 and "ngày kết thúc trước ngày bắt đầu" in r.text


def test_viewer_and_other_commune_cannot_move_or_cancel(panel: Panel, recurring: int) -> None:
    for path, data in (
        ("/panel/schedule/move", {"entry": f"ann-{recurring}", "new_time": "07:00"}),
        ("/panel/schedule/cancel", {"entry": f"ann-{recurring}"}),
    ):
        viewer = panel.as_("viewer")
        assert viewer.post(path, data=data | {"csrf": panel.csrf["viewer"]}).status_code == 403
        other = panel.as_("other")
        assert other.post(path, data=data | {"csrf": panel.csrf["other"]}).status_code == 404
    assert (
        _slots(_week(panel, "viewer", _next_monday(panel)), f"ann-{recurring}") == ["06:15:00"] * 3
    )


def test_move_changes_the_time_of_every_occurrence(panel: Panel, recurring: int) -> None:
    monday = _next_monday(panel)
    client = panel.as_("operator")
    data = {"csrf": panel.csrf["operator"], "entry": f"ann-{recurring}", "new_time": "07:40"}
    r = client.post("/panel/schedule/move", data=data | {"zone": ZONE})
    assert r.status_code == 303 and "error" not in r.headers["location"], r.headers
    assert _slots(_week(panel, "viewer", monday), f"ann-{recurring}") == ["07:40:00"] * 3
    bad = panel.as_("operator").post("/panel/schedule/move", data=data | {"new_time": "25:99"})
    assert bad.status_code == 422 and "Giờ «25:99» không hợp lệ" in bad.text  # on the POST


def test_move_a_programme_entry_row(panel: Panel) -> None:
    client = panel.as_("operator")
    data = {"csrf": panel.csrf["operator"], "entry": "roles-move", "new_time": "04:50"}
    assert client.post("/panel/schedule/move", data=data).status_code == 303
    html = _week(panel, "viewer", _next_monday(panel))
    assert _slots(html, "roles-move") == ["04:50:00"] * 7


def test_cancel_removes_it_and_is_audited(panel: Panel, recurring: int) -> None:
    monday = _next_monday(panel)
    client = panel.as_("operator")
    data = {"csrf": panel.csrf["operator"], "entry": f"ann-{recurring}"}
    # the first POST only asks (this day or the whole series); nothing changes yet
    asked = client.post("/panel/schedule/cancel", data=data)
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text
    assert _slots(_week(panel, "viewer", monday), f"ann-{recurring}") == ["07:40:00"] * 3
    data |= {"confirm": "yes", "what": "series"}
    client = panel.as_("operator")
    assert client.post("/panel/schedule/cancel", data=data).status_code == 303
    assert _slots(_week(panel, "viewer", monday), f"ann-{recurring}") == []
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"schedule:ann-{recurring}")
        ).all()
    assert sorted(actions) == ["schedule.cancel", "schedule.move"]  # the refused move is not
    again = panel.as_("operator").post(
        "/panel/schedule/cancel", data=data
    )  # a second click changes nothing
    assert again.status_code == 303


def test_cancel_one_day_of_a_daily_series_keeps_the_other_days(panel: Panel) -> None:
    """The calendar's "only this day" adds an exception date; the series keeps playing."""
    monday = _next_monday(panel)
    client = panel.as_("operator")
    form = _compose(panel, monday, freq="daily", weekdays=[], time_of_day="19:05")
    r = client.post("/panel/announcements", data=form)
    assert r.status_code == 303, r.text
    match = re.search(r"created=(\d+)", r.headers["location"])
    assert match
    entry = f"ann-{match.group(1)}"
    assert _slots(_week(panel, "operator", monday), entry) == ["19:05:00"] * 7
    html = _week(panel, "operator", monday)
    wednesday = monday + timedelta(days=2)
    occurrences = re.findall(
        rf'name="entry" value="{entry}">.*?name="occurrence" value="([^"]+)"', html, flags=re.S
    )
    assert len(occurrences) == 7 and 'value="day" checked' in html
    data = {
        "csrf": panel.csrf["operator"],
        "entry": entry,
        "zone": ZONE,
        "start": monday.isoformat(),
        "occurrence": occurrences[2],
        "what": "day",
    }
    asked = client.post("/panel/schedule/cancel", data=data)
    assert asked.status_code == 200
    assert f"Chỉ ngày {wednesday.strftime('%d/%m/%Y')}" in asked.text
    assert _slots(_week(panel, "viewer", monday), entry) == ["19:05:00"] * 7  # only asked
    client = panel.as_("operator")
    done = client.post("/panel/schedule/cancel", data=data | {"confirm": "yes"})
    assert done.status_code == 303 and "done=cancelled_day" in done.headers["location"]
    after = client.get(done.headers["location"]).text
    assert "các ngày khác vẫn phát" in after
    assert _slots(after, entry) == ["19:05:00"] * 6
    days = re.findall(
        r'aria-label="[^"]* (\d\d/\d\d)">(?:(?!</section>).)*?' + entry + '"', after, flags=re.S
    )
    assert wednesday.strftime("%d/%m") not in days and len(days) == 6
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        ann = session.get(Announcement, int(match.group(1)))
        assert ann is not None and ann.cancelled_at is None
        assert ann.rule is not None and ann.rule["exdates"] == [wednesday.isoformat()]
    # the whole series, when chosen, goes
    whole = client.post("/panel/schedule/cancel", data=data | {"confirm": "yes", "what": "series"})
    assert whole.status_code == 303
    assert _slots(_week(panel, "viewer", monday), entry) == []
