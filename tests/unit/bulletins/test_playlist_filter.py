"""Where playlists are compiled (``load_calendar``): held items never reach a playlist, and
priority bulletins are packed at the head of their programme slot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from controller.db.models import Announcement, AnnouncementTarget, Base, Media, ProgrammeSlotRow
from controller.services.playlist_builder import build_playlists
from controller.services.schedule_store import load_calendar
from controller.services.seed import seed_demo

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
SLOT_START = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
SHA = "a" * 64


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        seed_demo(s, NOW)
        s.add(
            Media(sha256=SHA, ext="mp3", size=1000, duration_s=20.0, source="tts", created_at=NOW)
        )
        s.commit()
        yield s


def _ann(
    session: Session, title: str, approval: str = "not_required", **fields: object
) -> Announcement:
    ann = Announcement(
        kind="tts",
        title=title,
        text=title,
        media_sha256=SHA,
        duration_s=20.0,
        start=fields.pop("start", NOW + timedelta(hours=1)),  # type: ignore[arg-type]
        created_at=fields.pop("created_at", NOW),  # type: ignore[arg-type]
        approval=approval,
        targets=[AnnouncementTarget(zone_id="xa-dong-tien")],
        **fields,
    )
    session.add(ann)
    session.flush()
    return ann


@pytest.mark.parametrize(
    ("approval", "airs"),
    [
        ("not_required", True),
        ("approved", True),
        ("draft", False),
        ("pending", False),
        ("rejected", False),
    ],
)
def test_only_approved_or_not_required_items_are_compiled(
    session: Session, approval: str, airs: bool
) -> None:
    ann = _ann(session, "Họp thôn", approval)
    ids = {e.id for e in load_calendar(session, NOW).entries}
    assert (f"ann-{ann.id}" in ids) is airs
    items = build_playlists(session, NOW, NOW, NOW + timedelta(hours=48), ["dong-an-1"])
    titles = [i.title for i in items["dong-an-1"].items]
    assert ("Họp thôn" in titles) is airs


def test_priority_items_are_packed_first_in_their_slot_in_rank_order(session: Session) -> None:
    session.add(
        ProgrammeSlotRow(
            id="ban-tin-sang",
            title="Bản tin",
            rule={"freq": "daily", "start_date": "2026-11-01", "time": "10:00"},
            duration_s=1800,
            gap_s=0,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    early = NOW - timedelta(days=1)
    _ann(session, "Tin xã", slot_id="ban-tin-sang", start=SLOT_START, created_at=early)
    _ann(
        session,
        "Ưu tiên hai",
        slot_id="ban-tin-sang",
        start=SLOT_START,
        slot_rank=1,
        level="priority",
    )
    _ann(
        session,
        "Ưu tiên một",
        slot_id="ban-tin-sang",
        start=SLOT_START,
        slot_rank=0,
        level="priority",
    )
    items = build_playlists(session, NOW, NOW, NOW + timedelta(hours=12), ["dong-an-1"])
    played = [(i.title, i.start) for i in items["dong-an-1"].items]
    assert played == [
        ("Ưu tiên một", SLOT_START),
        ("Ưu tiên hai", SLOT_START + timedelta(seconds=20)),
        ("Tin xã", SLOT_START + timedelta(seconds=40)),
    ]
