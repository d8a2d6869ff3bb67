"""Uploaded recordings: one path from an operator's file to a stored, checked media row.

The JSON API's upload, the panel's compose upload and a relay's fallback recording all come
through :func:`import_recording`, so they share the size limit, the checks, the loudness
normalisation, the ``Media`` row and the note of who uploaded it (so only they, and admins,
hear it before anything uses it); nothing is stored for a refused file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import BinaryIO

from audio.media import RenderedMedia
from controller.services.announcements import ensure_media
from controller.services.container import Controller
from controller.services.media_uses import record_owner

_CHUNK = 1024 * 1024


def store_upload(ctl: Controller, rendered: RenderedMedia, owner: str) -> None:
    """The media row of an imported recording (kept if the same bytes came before) and its
    uploader."""
    with ctl.sessions.begin() as session:
        ensure_media(session, rendered, "upload", ctl.clock.now())
        record_owner(session, rendered.sha256, owner)


def import_recording(ctl: Controller, source: BinaryIO, name: str, owner: str) -> RenderedMedia:
    """An uploaded recording spooled to a private temp file (at most one chunk past the size
    limit, which the import then refuses), checked, loudness-normalised and stored with its
    media row. Blocking: call it from a worker thread. Raises AudioRejected/AudioToolError."""
    limit = ctl.renderer.uploads.limits.max_bytes
    with tempfile.TemporaryDirectory(prefix="loa-upload-") as tmp:
        spooled = Path(tmp) / "upload"
        with spooled.open("wb") as out:
            written = 0
            while chunk := source.read(_CHUNK):
                out.write(chunk)
                written += len(chunk)
                if written > limit:
                    break
        rendered = ctl.renderer.import_upload(spooled, name)
    store_upload(ctl, rendered, owner)
    return rendered
