"""Slide images are typed by their bytes and size-limited; an announcement's visual block
is resolved against the media rows and reaches its calendar entry."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from audio.media_store import MediaStore
from controller.db.models import Announcement, AnnouncementTarget, Base, Media
from controller.services import visual
from controller.services.schedule_store import announcement_entry

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPG = b"\xff\xd8\xff\xe0" + b"\0" * 64


@pytest.fixture
def session() -> Session:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return Session(engine)


def test_image_type_comes_from_the_bytes_only() -> None:
    assert visual.image_type(PNG) == "png"
    assert visual.image_type(JPG) == "jpg"
    assert visual.image_type(b"GIF89a....") is None
    assert visual.image_type(b"%PDF-1.4") is None
    assert visual.image_type(b"") is None


def test_store_image_keeps_the_file_and_a_media_row(session: Session, tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    row = visual.store_image(session, store, PNG, NOW, "a.png")
    assert (row.ext, row.size, row.source) == ("png", len(PNG), "image")
    assert row.sha256 == hashlib.sha256(PNG).hexdigest()
    assert store.resolve(f"{row.sha256}.png") is not None
    again = visual.store_image(session, store, PNG, NOW, "b.png")
    assert again is row  # same bytes, one row


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"GIF89a" + b"\0" * 10, "not a PNG or JPEG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a PNG or JPEG"),
        (PNG + b"\0" * visual.MAX_IMAGE_BYTES, "the limit is 10 MB"),
    ],
)
def test_bad_images_are_refused_and_nothing_is_stored(
    session: Session, tmp_path: Path, data: bytes, reason: str
) -> None:
    with pytest.raises(visual.ImageRejected, match=reason):
        visual.store_image(session, MediaStore(tmp_path), data, NOW)
    assert list(tmp_path.iterdir()) == []
    assert session.query(Media).count() == 0


def _announcement(board: dict[str, object] | None) -> Announcement:
    ann = Announcement(
        id=7,
        kind="tts",
        title="Họp dân",
        text="Mời bà con họp dân lúc 8 giờ.",
        duration_s=10.0,
        priority=2,
        repeat=1,
        start=NOW,
        created_at=NOW,
        visual=board,
    )
    ann.targets = [AnnouncementTarget(zone_id="xa")]
    return ann


def test_visual_defaults_to_the_announcement_text_and_reaches_the_entry(
    session: Session, tmp_path: Path
) -> None:
    image = visual.store_image(session, MediaStore(tmp_path), JPG, NOW)
    body = visual.VisualIn.model_validate(
        {"ticker": "Thôn 1", "slides": [{"image_sha256": image.sha256, "duration_s": 6}]}
    )
    board = visual.resolve_visual(session, body, "Mời bà con họp dân lúc 8 giờ.")
    assert board == {
        "text": "Mời bà con họp dân lúc 8 giờ.",
        "ticker": "Thôn 1",
        "slides": [
            {"image": {"sha256": image.sha256, "ext": "jpg", "size": len(JPG)}, "duration_s": 6.0}
        ],
    }
    entry = announcement_entry(_announcement(board))
    assert entry.visual is not None
    assert entry.visual.slides[0].image.sha256 == image.sha256
    assert announcement_entry(_announcement(None)).visual is None


def test_slides_must_name_an_uploaded_image(session: Session) -> None:
    audio_row = Media(
        sha256="a" * 64, ext="mp3", size=1, duration_s=1.0, source="upload", created_at=NOW
    )
    session.add(audio_row)
    for sha in ("b" * 64, "a" * 64):  # unknown, and audio posing as a slide
        body = visual.VisualIn.model_validate({"slides": [{"image_sha256": sha}]})
        with pytest.raises(visual.ImageRejected, match="slides\\[0\\]"):
            visual.resolve_visual(session, body, "x")
