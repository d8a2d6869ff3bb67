"""E-board content of announcements: slide images in the media store and the ``visual`` block.

Slides are stored like audio, by SHA-256 in the media store with a ``media`` row (source
``image``, duration 0), so agents fetch them at ``/media/{sha256}.{ext}`` like any media.
Nothing in an upload is trusted: the type comes from the first bytes (PNG or JPEG only), never
from the name or the declared content type, and the size is limited before anything is
stored. An announcement's ``visual`` is kept in the wire form of ``protocol.models.Visual``,
so compiling a playlist copies it as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from audio.media_store import MediaStore
from controller.db.models import Announcement, Media
from controller.services.media_uses import record_owner
from protocol.models import ImageRef, Slide, Visual

MAX_IMAGE_BYTES = 10 * 1024 * 1024
"""A full-HD slide as PNG is a few MB; a board never needs more."""
IMAGE_SOURCE = "image"
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"))


class ImageRejected(ValueError):
    """An upload that is not a PNG/JPEG slide within the limits (the message says why)."""


class SlideIn(BaseModel):
    """A slide as an operator sends it: an uploaded image (by hash) and how long it shows."""

    model_config = ConfigDict(extra="forbid")

    image_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    duration_s: Annotated[float, Field(gt=0, le=3600)] = 10.0


class VisualIn(BaseModel):
    """``visual`` of ``POST /api/v1/announcements``; ``text`` defaults to the announcement's."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(max_length=2000)] | None = None
    ticker: Annotated[str, Field(max_length=500)] | None = None
    slides: list[SlideIn] = Field(default_factory=list, max_length=50)


def image_type(data: bytes) -> str | None:
    """``png`` or ``jpg`` from the file's magic bytes, else None."""
    for magic, ext in _MAGIC:
        if data.startswith(magic):
            return ext
    return None


def store_image(
    session: Session,
    store: MediaStore,
    data: bytes,
    now: datetime,
    name: str = "image",
    owner: str | None = None,
) -> Media:
    """Check and store one slide image with its media row and uploader (the caller
    commits). The uploader alone (and admins) may fetch it until something shows it."""
    if not data:
        raise ImageRejected(f"{name}: the file is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRejected(
            f"{name}: the file is {len(data) / 1048576:.1f} MB; "
            f"the limit is {MAX_IMAGE_BYTES // 1048576} MB"
        )
    ext = image_type(data)
    if ext is None:
        raise ImageRejected(f"{name}: not a PNG or JPEG image")
    stored = store.put_bytes(data, ext)
    row = session.get(Media, stored.sha256)
    if row is None:
        row = Media(
            sha256=stored.sha256,
            ext=ext,
            size=stored.size,
            duration_s=0.0,
            source=IMAGE_SOURCE,
            engine=None,
            created_at=now,
        )
        session.add(row)
    if owner is not None:
        record_owner(session, row.sha256, owner)
    return row


def resolve_visual(session: Session, body: VisualIn, default_text: str) -> dict[str, Any]:
    """The wire form of ``body`` with each slide's image looked up (it must be an uploaded
    image); raises ``ImageRejected`` naming the first unknown one."""
    slides = []
    for index, slide in enumerate(body.slides):
        media = session.get(Media, slide.image_sha256)
        if media is None or media.ext not in ("png", "jpg"):
            raise ImageRejected(f"slides[{index}]: no uploaded image {slide.image_sha256}")
        ref = ImageRef(sha256=media.sha256, ext=media.ext, size=media.size)
        slides.append(Slide(image=ref, duration_s=slide.duration_s))
    text = body.text if body.text is not None else default_text.strip()[:2000]
    visual = Visual(text=text or None, slides=slides, ticker=body.ticker or None)
    return visual.model_dump(mode="json", exclude_none=True)


def replace_visual(session: Session, ann: Announcement, body: VisualIn | None) -> None:
    """Set (``body``) or remove (None) an announcement's e-board content; board text defaults
    to its text. Raises ``ImageRejected`` before changing anything."""
    ann.visual = None if body is None else resolve_visual(session, body, ann.text or "")
