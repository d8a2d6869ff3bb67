"""The playback log as people read it: titles and names instead of ids, details in words,
and a CSV with translated headers, statuses, local dd/mm/yyyy times and titles."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from integration.panel.panel_support import Panel, store_command

from controller.db.models import (
    Announcement,
    AnnouncementTarget,
    Emergency,
    Media,
    PlaybackEvent,
)
from controller.panel.timefmt import LOCAL
from protocol.models import Command, CommandAction, ItemKind, MediaRef, PlaylistItem, Priority

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
VI_HEADER = [
    "Thời gian",
    "Cụm loa",
    "Thôn/bản",
    "Trạng thái",
    "Loại",
    "Nội dung",
    "Giờ phát theo lịch",
    "Chi tiết",
    "Mã cụm loa",
    "Mã mục phát",
    "Mã lệnh",
    "Phiên bản lịch phát",
    "Thời gian (UTC)",
    "Người soạn",
    "Người duyệt",
]


def _command(ctl: object, action: CommandAction, item: PlaylistItem | None) -> str:
    command = Command(
        id=uuid.uuid4().hex,
        action=action,
        issued_at=AT,
        expires_at=AT + timedelta(minutes=10),
        node_id="cay-thi-1",
        item=item,
    )
    return store_command(ctl, command)


@pytest.fixture(scope="module")
def seeded(panel: Panel) -> dict[str, str]:
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    sha = hashlib.sha256(b"log-names").hexdigest()
    with ctl.sessions.begin() as session:
        session.add(
            Media(sha256=sha, ext="mp3", size=1, duration_s=10, source="tts", created_at=AT)
        )
        ann = Announcement(
            kind="tts",
            title="Tiêm phòng cho trâu bò",
            text="Kính thưa bà con, tiêm phòng.",
            duration_s=20,
            start=AT,
            created_at=AT,
            created_by="lan",
            approval="approved",
            approved_by="hoa",
            approved_at=AT,
            targets=[AnnouncementTarget(node_id="dong-an-1")],
        )
        session.add(ann)
        session.flush()
        session.add(
            Emergency(
                id="e1",
                title="Cháy rừng phía Khe Ngọ",
                media_sha256=sha,
                item_id="emg-e1",
                zone_ids=["ban-khe-ngo"],
                issued_at=AT,
                expires_at=AT + timedelta(minutes=5),
                command_ids=[],
                cancel_command_ids=[],
            )
        )
        ann_item = f"ann-{ann.id}@{AT:%Y%m%dT%H%M%SZ}#0"
    now_item = PlaylistItem(
        id="now-abc123",
        kind=ItemKind.TTS,
        start=AT,
        duration_s=10,
        priority=Priority.EMERGENCY,
        title="Mời họp gấp",
        media=MediaRef(sha256=sha, size=1, duration_s=10),
    )
    play_cmd = _command(ctl, CommandAction.PLAY_NOW, now_item)
    stop_cmd = _command(ctl, CommandAction.STOP, None)
    events = [
        ("dong-an-1", "finished", ann_item, None, ""),
        ("khe-ngo-1", "finished", "emg-e1", None, ""),
        ("cay-thi-1", "started", "now-abc123", play_cmd, "play_now"),
        ("cay-thi-1", "finished", "now-abc123", stop_cmd, f"stopped by {stop_cmd}"),
        ("cay-thi-1", "command_ack", None, stop_cmd, "nothing to stop"),
        ("dong-an-1", "skipped", ann_item, None, "late by 12.4s"),
    ]
    with ctl.sessions.begin() as session:
        for seq, (node, kind, item, cmd, detail) in enumerate(events, 1):
            session.add(
                PlaybackEvent(
                    node_id=node,
                    seq=seq,
                    kind=kind,
                    at=AT + timedelta(seconds=seq),
                    item_id=item,
                    command_id=cmd,
                    detail=detail,
                    received_at=AT,
                )
            )
    return {"ann": ann_item, "stop": stop_cmd}


def test_page_shows_titles_names_and_details_in_words(panel: Panel, seeded: dict[str, str]) -> None:
    html = panel.as_("operator").get("/panel/logs").text
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    for text in (
        "Tiêm phòng cho trâu bò",
        "Cháy rừng phía Khe Ngọ",
        "Mời họp gấp",
        "Loa nhà văn hóa Đồng An",
        "Bản Khe Ngọ",
        "Không có gì đang phát để dừng",
        "Đã dừng theo lệnh: dừng phát",
        "Trễ 12 giây nên bỏ qua",
        "Lệnh: phát ngay",
        "lượt 30/11/2026 08:00",
    ):
        assert text in body, text
    assert "nothing to stop" not in body and "stopped by" not in body
    # ids stay, but only as secondary text
    assert f'<small class="muted id">{seeded["ann"]}</small>' in body
    english = panel.as_("operator").get("/panel/logs?lang=en").text
    assert "Nothing was playing to stop" in english and "Stopped by a command: stop" in english


def test_csv_is_translated_and_local(panel: Panel, seeded: dict[str, str]) -> None:
    r = panel.as_("viewer").get("/panel/logs.csv?node=dong-an-1")
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert rows[0] == VI_HEADER
    records = [dict(zip(VI_HEADER, row, strict=True)) for row in rows[1:]]
    skipped, finished = records  # newest first
    local = (AT + timedelta(seconds=1)).astimezone(LOCAL)
    assert finished["Thời gian"] == local.strftime("%d/%m/%Y %H:%M:%S") == "30/11/2026 08:00:01"
    assert finished["Trạng thái"] == "Đã phát xong" and skipped["Trạng thái"] == "Bỏ qua"
    assert finished["Nội dung"] == "Tiêm phòng cho trâu bò"
    assert finished["Cụm loa"] == "Loa nhà văn hóa Đồng An"
    assert finished["Thôn/bản"] == "Bản Đồng An"
    assert finished["Mã mục phát"] == seeded["ann"]
    # approval before air: who wrote it and who approved it, on each aired item
    assert (finished["Người soạn"], finished["Người duyệt"]) == ("lan", "hoa")
    assert skipped["Chi tiết"] == "Trễ 12 giây nên bỏ qua"
    english = panel.as_("viewer").get("/panel/logs.csv?node=dong-an-1&lang=en").text
    header, *en_rows = csv.reader(io.StringIO(english.lstrip("\ufeff")))
    assert header[:4] == ["Time", "Speaker", "Village", "Status"]
    assert [row[3] for row in en_rows] == ["Skipped", "Finished"]
    assert en_rows[0][7] == "Skipped, 12 s late"
