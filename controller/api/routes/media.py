"""Media files by content address: ``/media/{sha256}.{ext}`` (immutable, cacheable).

Not public: a node fetches with its own credentials (HTTP Basic) what some use reaches it, a
panel or API user what some use reaches in their commune scope, or a fresh file they made
(:mod:`controller.services.media_access`); citizens hear public items at
``/public/{commune}/media/…``. A file outside the caller's reach answers 404 like a missing
one, to nodes as to users. FileResponse supports HTTP Range for resumed downloads.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse

from controller.api.deps import ControllerDep, SessionDep, current_principal
from controller.auth.scope import scope_for
from controller.services import media_access

router = APIRouter(tags=["media"])

_MIME = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "png": "image/png",
    "jpg": "image/jpeg",
}
# private: a shared cache must not hand one caller's file to another
CACHE = "private, max-age=31536000, immutable"


def _basic(request: Request) -> tuple[str, str] | None:
    """The (username, password) of an ``Authorization: Basic`` header; None without one."""
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, sep, password = (
            base64.b64decode(value.strip(), validate=True).decode().partition(":")
        )
    except ValueError:  # not base64, not ASCII or not UTF-8
        username, sep, password = "", "", ""
    if not sep:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "malformed Basic credentials",
            {"WWW-Authenticate": "Basic"},
        )
    return username, password


def _authorise(request: Request, ctl: ControllerDep, session: SessionDep, sha256: str) -> None:
    # an Opus rendition is used wherever the MP3 it was made from is
    source = ctl.renditions.source_of(sha256) if ctl.renditions is not None else None
    hashes = [sha256] if source is None else [sha256, source]
    credentials = _basic(request)
    if credentials is not None:
        node = media_access.node_authenticated(session, *credentials)
        if node is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown or revoked node credentials",
                {"WWW-Authenticate": "Basic"},
            )
        allowed = media_access.node_may_fetch(session, node, hashes)
    else:
        principal = current_principal(request, ctl)  # 401 without credentials
        scope = scope_for(session, principal)
        allowed = media_access.scope_may_fetch(session, scope, principal.username, hashes)
    if not allowed:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such media")


@router.get("/media/{filename}")
def get_media(
    filename: str, request: Request, ctl: ControllerDep, session: SessionDep
) -> FileResponse:
    _authorise(request, ctl, session, filename.partition(".")[0])
    path = ctl.media_store.resolve(filename)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such media")
    return FileResponse(
        path,
        media_type=_MIME.get(path.suffix.lstrip("."), "application/octet-stream"),
        headers={"Cache-Control": CACHE},
    )
