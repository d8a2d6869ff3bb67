"""Speech preview ("listen before sending"), normalised text, and audio uploads.

Rendering and decoding run in the thread pool (they call ffmpeg); the audio package's
typed errors become HTTP errors here, once: ``AudioRejected`` -> 422 (413 for size),
an engine or tool failure -> 503.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, HTTPException, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from audio.media import RenderedMedia
from controller.api.deps import ControllerDep, Operator, SessionDep
from controller.api.scoping import ScopeDep, checked_targets
from controller.services.container import Controller
from controller.services.media_uses import record_owner
from controller.services.pronunciation import entries_for_targets
from controller.services.recordings import import_recording

router = APIRouter(prefix="/api/v1", tags=["tts"])


class SpeechIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=10_000)
    engine: str | None = None
    voice: str | None = None
    rate_wpm: int | None = Field(None, ge=80, le=260)
    format: str | None = Field(None, pattern="^(mp3|opus)$")
    targets: list[str] = Field(default_factory=list, max_length=500)
    """Where the text will be sent (zone or node ids): their pronunciation entries apply."""


class NormalisedOut(BaseModel):
    text: str
    normalised: str


class MediaOut(BaseModel):
    sha256: str
    ext: str
    size: int
    duration_s: float
    engine: str
    url: str


def audio_response(ctl: Controller, media: RenderedMedia) -> Response:
    """A rendered file as the answer, with its engine, length and normalised text."""
    data = ctl.media_store.path_for(media.sha256, media.ext).read_bytes()
    return Response(
        data,
        media_type=media.mime,
        headers={
            "X-Loa-Engine": media.engine,
            "X-Loa-Duration-S": f"{media.duration_s:.3f}",
            "X-Loa-Media": media.filename,
            "X-Loa-Normalised-Text": quote(media.normalised_text),
        },
    )


def preview_response(
    ctl: Controller, session: Session, media: RenderedMedia, username: str
) -> Response:
    """A preview as the answer; its maker (only) may fetch it again at ``/media/`` until
    something uses it."""
    record_owner(session, media.sha256, username)
    session.commit()
    return audio_response(ctl, media)


def _http_error(exc: Exception) -> HTTPException:
    if isinstance(exc, AudioRejected):
        code = (
            status.HTTP_413_CONTENT_TOO_LARGE
            if "limit is" in exc.reason and " MB" in exc.reason
            else status.HTTP_422_UNPROCESSABLE_CONTENT
        )
        return HTTPException(code, exc.reason)
    if isinstance(exc, SynthesisFailed | AudioToolError):
        return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, exc.reason)
    raise exc


def _entries(session: SessionDep, scope: ScopeDep, targets: list[str]) -> dict[str, str]:
    resolved = checked_targets(session, scope, targets)  # resolved by kind, in scope
    return entries_for_targets(session, resolved.zone_ids, resolved.node_ids)


@router.post("/tts/preview")
async def preview(
    body: SpeechIn, ctl: ControllerDep, session: SessionDep, scope: ScopeDep, who: Operator
) -> Response:
    """The rendered audio itself (cached: sending the same text later reuses the file); its
    maker may fetch it again at ``/media/`` until something uses it."""
    entries = _entries(session, scope, body.targets)
    try:
        media: RenderedMedia = await run_in_threadpool(
            ctl.renderer.render_text,
            body.text,
            engine=body.engine,
            voice=body.voice,
            rate_wpm=body.rate_wpm,
            output=body.format,
            entries=entries,
        )
    except (AudioRejected, SynthesisFailed, AudioToolError) as exc:
        raise _http_error(exc) from None
    return preview_response(ctl, session, media, who.username)


@router.post("/tts/normalise")
def normalise(
    body: SpeechIn, ctl: ControllerDep, session: SessionDep, scope: ScopeDep, _: Operator
) -> NormalisedOut:
    """The words the engine will say, so an operator can check numbers and abbreviations."""
    entries = _entries(session, scope, body.targets)
    try:
        return NormalisedOut(text=body.text, normalised=ctl.renderer.normalise(body.text, entries))
    except AudioRejected as exc:
        raise _http_error(exc) from None


@router.post("/uploads/audio", status_code=status.HTTP_201_CREATED)
async def upload_audio(
    file: Annotated[UploadFile, File()], ctl: ControllerDep, who: Operator
) -> MediaOut:
    """Check, loudness-normalise and store an uploaded recording with its media row (the
    panel's upload path); nothing is kept on reject."""
    name = file.filename or "upload"

    def work() -> RenderedMedia:
        return import_recording(ctl, file.file, name, who.username)

    try:
        media = await run_in_threadpool(work)
    except (AudioRejected, AudioToolError) as exc:
        raise _http_error(exc) from None
    finally:
        await file.close()
    base = ctl.settings.resolved_public_url
    return MediaOut(
        sha256=media.sha256,
        ext=media.ext,
        size=media.size,
        duration_s=media.duration_s,
        engine=media.engine,
        url=f"{base}/media/{media.filename}",
    )
