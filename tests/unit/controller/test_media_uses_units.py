"""The ``media_uses`` rows follow every write of a record that names a file inside JSON, and
an Opus rendition names the MP3 it was made from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from support.audio_files import tone

from audio.media_store import MediaStore
from audio.renditions import OpusRenditions
from controller.db.models import Announcement, Base, Command, MediaUse, ScheduleEntryRow
from controller.services import media_uses

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
H = {c: c * 64 for c in "abcdef"}


def _image(sha: str) -> dict[str, object]:
    return {"image": {"sha256": sha, "ext": "png", "size": 10}, "duration_s": 5}


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s


def _rows(session: Session) -> set[tuple[str, str, str]]:
    return {(u.kind, u.ref, u.sha256[0]) for u in session.scalars(select(MediaUse))}


def test_item_hashes_take_media_alternatives_fallback_and_slides() -> None:
    item = {
        "media": {"sha256": H["a"], "alternatives": [{"sha256": H["b"]}]},
        "fallback": {"sha256": H["c"]},
        "visual": {"slides": [_image(H["d"]), {"bogus": 1}]},
    }
    assert media_uses.item_hashes(item) == {H["a"], H["b"], H["c"], H["d"]}
    assert media_uses.item_hashes(None) == set() == media_uses.command_hashes("not json")
    envelope = json.dumps({"key_id": "k", "sig": "s", "payload": {"item": item}})
    assert media_uses.command_hashes(envelope) == {H["a"], H["b"], H["c"], H["d"]}


def test_slides_follow_the_announcements_visual(session: Session) -> None:
    ann = Announcement(
        text="x", duration_s=1, start=NOW, created_at=NOW, visual={"slides": [_image(H["a"])]}
    )
    session.add(ann)
    session.commit()
    assert _rows(session) == {("slide", str(ann.id), "a")}
    ann.visual = {"slides": [_image(H["b"]), _image(H["c"])]}
    session.commit()
    assert _rows(session) == {("slide", str(ann.id), "b"), ("slide", str(ann.id), "c")}
    ann.title = "unrelated change"
    session.commit()
    assert len(_rows(session)) == 2
    ann.visual = None
    session.commit()
    assert _rows(session) == set()


def test_programme_entries_and_commands_are_indexed(session: Session) -> None:
    spec = {"kind": "stream", "fallback": {"sha256": H["e"]}, "targets": {"zones": ["z"]}}
    entry = ScheduleEntryRow(
        id="vov", kind="stream", title="VOV", priority=2, created_seq=1, spec=spec,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    payload = {"payload": {"item": {"media": {"sha256": H["f"]}}}}
    command = Command(
        id="c1", action="play_now", node_id="n1", payload=json.dumps(payload),
        issued_at=NOW, expires_at=NOW,
    )  # fmt: skip
    session.add_all([entry, command])
    session.commit()
    assert _rows(session) == {("schedule", "vov", "e"), ("command", "c1", "f")}
    entry.spec = {**spec, "fallback": {"sha256": H["a"]}}
    session.commit()
    assert ("schedule", "vov", "a") in _rows(session) and ("schedule", "vov", "e") not in _rows(
        session
    )
    session.delete(entry)
    session.commit()
    assert _rows(session) == {("command", "c1", "f")}


def test_an_owner_is_recorded_once(session: Session) -> None:
    for _ in range(2):
        media_uses.record_owner(session, H["a"], "op")
        session.commit()
    media_uses.record_owner(session, H["a"], "other")
    session.commit()
    assert _rows(session) == {("owner", "op", "a"), ("owner", "other", "a")}


def test_a_rendition_names_its_source_also_when_made_before_the_reverse_index(
    tmp_path: Path,
) -> None:
    store = MediaStore(tmp_path)
    mp3 = store.put_bytes(tone(0.3, "mp3"), "mp3")
    made = OpusRenditions(store).opus_for(mp3.sha256, "mp3")
    assert made is not None
    fresh = OpusRenditions(store)
    assert fresh.source_of(made.sha256) == mp3.sha256
    assert fresh.source_of(mp3.sha256) is None and fresh.source_of("../x") is None
    # an index written by an older controller (no reverse entry): found on the first miss
    for entry in (tmp_path / "renditions" / "sources").iterdir():
        entry.unlink()
    assert OpusRenditions(store).source_of(made.sha256) == mp3.sha256
