"""Issue 16 item 10: the calendar as operators read it, on a controller whose clock is an
evening (Wednesday 04/03/2026 19:30 in Vietnam): it opens on the commune, a daily rule made
that evening does not show its morning as if it will air, played items show as played with
no controls, "tomorrow 07:30 then every Monday" is one announcement, and the announcement
list marks repeating items (icon + rule in words) sorted by their next air time."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from integration.panel.conftest import seeded_panel
from integration.panel.panel_support import Panel

from controller.broker.process import MosquittoProcess
from controller.db.models import Announcement, PlaybackEvent
from protocol.clock import FakeClock

pytestmark = pytest.mark.integration

EVENING = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)  # 19:30 in Vietnam, a Wednesday
MONDAY = "2026-03-02"


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock(EVENING)


@pytest.fixture(scope="module")
def evening(
    tmp_path_factory: pytest.TempPathFactory, broker: MosquittoProcess, clock: FakeClock
) -> Iterator[Panel]:
    with seeded_panel(tmp_path_factory.mktemp("evening"), broker, clock) as built:
        yield built


def _create(panel: Panel, **fields: object) -> int:
    form = {
        "csrf": panel.csrf["operator"],
        "text": "Kính thưa bà con.",
        "targets": ["ban-dong-an"],
        "when": "recurring",
    } | fields
    r = panel.as_("operator").post("/panel/announcements", data=form)
    assert r.status_code == 303, r.text
    match = re.search(r"created=(\d+)", r.headers["location"])
    assert match
    return int(match.group(1))


def _days_of(html: str, entry: str) -> list[str]:
    """The dd/mm of each day section showing ``entry``."""
    sections = re.findall(
        r'<section class="day[^"]*" aria-label="[^"]* (\d\d/\d\d)">(.*?)</section>', html, re.S
    )
    return [day for day, body in sections for _ in re.findall(rf'data-entry="{entry}"', body)]


def _slot(html: str, entry: str, day: str) -> str:
    sections = dict(re.findall(r'aria-label="[^"]* (\d\d/\d\d)">(.*?)</section>', html, re.S))
    found = re.search(rf'<div class="slot[^"]*" data-entry="{entry}".*?</div>', sections[day], re.S)
    assert found, sections[day]
    return found.group(0)


def test_the_calendar_opens_on_the_commune(evening: Panel) -> None:
    html = evening.as_("operator").get("/panel/schedule").text
    assert re.search(r'<option value="xa-dong-tien" selected>', html), html[:3000]


def test_an_evening_daily_rule_shows_no_past_morning_and_played_ones_show_as_played(
    evening: Panel, clock: FakeClock
) -> None:
    ann = _create(evening, title="Loa buổi sáng", freq="daily", time_of_day="07:00")
    entry = f"ann-{ann}"
    html = evening.as_("operator").get(f"/panel/schedule?zone=xa-dong-tien&start={MONDAY}").text
    # created Wednesday 19:30: its first airing is Thursday; Wednesday 07:00 never aired
    assert _days_of(html, entry) == ["05/03", "06/03", "07/03", "08/03"]
    # Thursday morning the speakers play it and report; it is Thursday 07:15 now (the
    # panel sessions, 12 h long, are still valid)
    clock.advance(11.75 * 3600)
    ctl = evening.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions.begin() as session:
        for seq, kind in enumerate(("started", "finished"), start=1):
            session.add(
                PlaybackEvent(
                    node_id="dong-an-1",
                    seq=9000 + seq,
                    kind=kind,
                    at=datetime(2026, 3, 5, 0, 0, seq, tzinfo=UTC),
                    item_id=f"{entry}@20260305T000000Z#0",
                    detail="",
                    received_at=clock.now(),
                )
            )
    for role in ("operator", "viewer"):
        html = evening.as_(role).get(f"/panel/schedule?zone=xa-dong-tien&start={MONDAY}").text
        assert _days_of(html, entry) == ["05/03", "06/03", "07/03", "08/03"]
        played = _slot(html, entry, "05/03")
        assert "Đã phát" in played and 'data-played="1"' in played
        # a played item offers neither a new time nor a cancel
        assert "/panel/schedule/move" not in played and "/panel/schedule/cancel" not in played
    upcoming = _slot(html, entry, "06/03")
    assert "Đã phát" not in upcoming
    operator = evening.as_("operator").get(f"/panel/schedule?zone=xa-dong-tien&start={MONDAY}")
    assert "/panel/schedule/cancel" in _slot(operator.text, entry, "06/03")
    assert "Hằng ngày lúc 07:00" in upcoming and "↻" in upcoming


def test_tomorrow_at_half_past_seven_then_every_monday(evening: Panel, clock: FakeClock) -> None:
    today = clock.now()  # Thursday 05/03 morning after the test above, Wednesday otherwise
    tomorrow = datetime.fromtimestamp(today.timestamp() + 86400 + 7 * 3600, UTC).date()
    ann = _create(
        evening,
        title="Tiêm phòng",
        freq="weekly",
        weekdays=["MO"],
        time_of_day="07:30",
        from_date=tomorrow.isoformat(),
        first_day="1",
    )
    ctl = evening.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        row = session.get(Announcement, ann)
        assert row is not None and row.rule is not None
        assert row.rule["rdates"] == [tomorrow.isoformat()] and row.rule["weekdays"] == ["MO"]
    html = evening.as_("viewer").get(f"/panel/schedule?zone=xa-dong-tien&start={MONDAY}").text
    next_week = evening.as_("viewer").get("/panel/schedule?zone=xa-dong-tien&start=2026-03-09")
    assert _days_of(html, f"ann-{ann}") == [tomorrow.strftime("%d/%m")]
    assert _days_of(next_week.text, f"ann-{ann}") == ["09/03"]
    words = _slot(html, f"ann-{ann}", tomorrow.strftime("%d/%m"))
    assert f"Hằng tuần vào Thứ Hai lúc 07:30, thêm ngày {tomorrow:%d/%m/%Y}" in words


def test_the_list_marks_repeats_and_is_sorted_by_next_airing(evening: Panel) -> None:
    later = _create(
        evening, title="Một lần, ngày 20", when="at", at="2026-03-20T08:00", freq="daily"
    )
    sooner = _create(
        evening, title="Hằng tuần thứ Bảy", freq="weekly", weekdays=["SA"], time_of_day="06:00"
    )
    html = evening.as_("viewer").get("/panel/announcements").text
    rows = re.findall(r'<tr[^>]*data-ann="(\d+)"([^>]*)>(.*?)</tr>', html, re.S)
    order = [int(r[0]) for r in rows]
    assert order.index(sooner) < order.index(later)
    by_id = {int(r[0]): (r[1], r[2]) for r in rows}
    attrs, cells = by_id[sooner]
    assert 'data-repeats="1"' in attrs and "↻" in cells
    assert "Hằng tuần vào Thứ Bảy lúc 06:00" in cells
    attrs, cells = by_id[later]
    assert "data-repeats" not in attrs and "↻" not in cells
    assert "Bản Đồng An" in cells and ">ban-dong-an<" not in cells  # names, not zone ids
    # next airing times ascend over the rows still to air
    times = [
        datetime.strptime(m, "%d/%m/%Y %H:%M")
        for m in re.findall(
            r"<tr[^>]*data-ann=\"\d+\"[^>]*>\s*<td>(\d\d/\d\d/\d{4} \d\d:\d\d)", html
        )
    ]
    assert times == sorted(times) and len(times) >= 3
