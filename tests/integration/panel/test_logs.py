"""Playback logs: keyset pages visit every row once, filters and scope hold, CSV matches."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from integration.panel.panel_support import Panel

from controller.db.models import PlaybackEvent
from controller.panel.timefmt import today_local

pytestmark = pytest.mark.integration

NODES = ["dong-an-1", "cay-thi-1", "khe-ngo-1"]


@pytest.fixture(scope="module")
def events(panel: Panel) -> list[tuple[str, int, str, datetime]]:
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    now = datetime.now(UTC).replace(microsecond=0)
    rows = []
    with ctl.sessions.begin() as session:
        for i in range(130):
            node = NODES[i % 3]
            kind = "failed" if i % 10 == 0 else "finished"
            # several events share a timestamp: the cursor must break ties by id
            at = now - timedelta(minutes=i // 2)
            session.add(
                PlaybackEvent(
                    node_id=node,
                    seq=i + 1,
                    kind=kind,
                    at=at,
                    item_id=f"ann-{i % 7}@x",
                    detail="",
                    received_at=now,
                )
            )
            rows.append((node, i + 1, kind, at))
    return rows


def _walk(panel: Panel, role: str, query: str) -> list[str]:
    client = panel.as_(role)
    seen: list[str] = []
    url = f"/panel/logs?{query}"
    for _ in range(20):
        html = client.get(url).text
        body = html.split("<tbody>")[1].split("</tbody>")[0]
        seen += re.findall(r'<a href="/panel/nodes/([a-z0-9-]+)">', body)
        older = re.search(r'rel="next" href="([^"]+)"', html)
        if not older:
            return seen
        url = older.group(1).replace("&amp;", "&")
    raise AssertionError("pagination did not end")


def test_pages_visit_every_row_once(
    panel: Panel, events: list[tuple[str, int, str, datetime]]
) -> None:
    assert len(_walk(panel, "admin", "")) == 130


def test_filters_and_scope(panel: Panel, events: list[tuple[str, int, str, datetime]]) -> None:
    assert set(_walk(panel, "admin", "node=cay-thi-1")) == {"cay-thi-1"}
    assert len(_walk(panel, "admin", "status=failed")) == 13
    assert len(_walk(panel, "admin", "zone=ban-khe-ngo")) == 43
    assert len(_walk(panel, "admin", "item=ann-3")) == len([i for i in range(130) if i % 7 == 3])
    today = today_local(datetime.now(UTC))
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert _walk(panel, "admin", f"date_from={tomorrow}") == []
    # Vi Hương's operator sees nothing of Đồng Tiến, even when asking by node id
    assert _walk(panel, "other", "node=cay-thi-1") == []
    assert _walk(panel, "other", "") == []


def test_newer_link_returns_to_the_previous_page(
    panel: Panel, events: list[tuple[str, int, str, datetime]]
) -> None:
    client = panel.as_("admin")
    first = client.get("/panel/logs").text
    older = re.search(r'rel="next" href="([^"]+)"', first)
    assert older
    second = client.get(older.group(1).replace("&amp;", "&")).text
    newer = re.search(r'rel="prev" href="([^"]+)"', second)
    assert newer
    back = client.get(newer.group(1).replace("&amp;", "&")).text
    rows = lambda html: html.split("<tbody>")[1].split("</tbody>")[0]  # noqa: E731
    assert rows(back) == rows(first)


def test_bad_filter_values_are_reported_not_crashed(panel: Panel) -> None:
    r = panel.as_("admin").get("/panel/logs?date_from=12/31/2025&before=nonsense")
    assert r.status_code == 422 and "ngày/tháng/năm" in r.text, r.text
    assert 'value="12/31/2025"' in r.text  # what was typed stays, to be corrected
    r = panel.as_("admin").get("/panel/logs?before=nonsense")
    assert r.status_code == 200 and "bad page cursor" in r.text


def test_log_dates_are_day_first_and_a_bad_one_never_exports_everything(panel: Panel) -> None:
    client = panel.as_("admin")
    r = client.get("/panel/logs?date_from=25/12/2026&date_to=26/12/2026")
    assert r.status_code == 200 and 'value="25/12/2026"' in r.text
    assert 'placeholder="dd/mm/yyyy"' in r.text and 'type="date"' not in r.text
    r = client.get("/panel/logs.csv?date_from=25/12/20266")
    assert r.status_code == 422 and "ngày/tháng/năm" in r.text


def test_csv_has_every_filtered_row(
    panel: Panel, events: list[tuple[str, int, str, datetime]]
) -> None:
    r = panel.as_("viewer").get("/panel/logs.csv?status=failed")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert len(rows) == 13 and {row["Trạng thái"] for row in rows} == {"Lỗi"}
    assert rows[0]["Thời gian (UTC)"] >= rows[-1]["Thời gian (UTC)"]
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", rows[0]["Thời gian"])
    assert panel.as_("other").get("/panel/logs.csv").text.count("\n") == 1  # header only
