"""Media files by content address: ``/media/{sha256}.{ext}`` (immutable, cacheable forever).

Served without authentication on purpose: agents fetch by hash, the hash is unguessable and
the content is public broadcast audio. FileResponse supports HTTP Range for resumed downloads.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from controller.api.deps import ControllerDep

router = APIRouter(tags=["media"])

_MIME = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "png": "image/png",
    "jpg": "image/jpeg",
}


@router.get("/media/{filename}")
def get_media(filename: str, ctl: ControllerDep) -> FileResponse:
    path = ctl.media_store.resolve(filename)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such media")
    return FileResponse(
        path,
        media_type=_MIME.get(path.suffix.lstrip("."), "application/octet-stream"),
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
