"""Slide images for e-boards: ``POST /api/v1/uploads/image`` (operators).

Like audio uploads the stored file is public by its unguessable hash (agents fetch it at
``/media/{sha256}.{ext}``); commune scope applies where an announcement uses it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from controller.api.deps import ControllerDep, Operator
from controller.services import visual

router = APIRouter(prefix="/api/v1", tags=["slides"])


class ImageOut(BaseModel):
    sha256: str
    ext: str
    size: int
    url: str


async def read_limited(file: UploadFile, limit: int) -> bytes:
    """The upload's bytes, refused with 413 as soon as it passes ``limit``."""
    data = await file.read(limit + 1)
    await file.close()
    if len(data) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"the file is over {limit // 1048576} MB"
        )
    return data


@router.post("/uploads/image", status_code=status.HTTP_201_CREATED)
async def upload_image(
    file: Annotated[UploadFile, File()], ctl: ControllerDep, _: Operator
) -> ImageOut:
    """Check (PNG/JPEG by its bytes, size) and store a slide image; nothing kept on reject."""
    name = file.filename or "image"
    data = await read_limited(file, visual.MAX_IMAGE_BYTES)

    def work() -> ImageOut:
        with ctl.sessions() as session:
            media = visual.store_image(session, ctl.media_store, data, ctl.clock.now(), name)
            session.commit()
            return ImageOut(
                sha256=media.sha256,
                ext=media.ext,
                size=media.size,
                url=f"{ctl.settings.resolved_public_url}/media/{media.sha256}.{media.ext}",
            )

    try:
        return await run_in_threadpool(work)
    except visual.ImageRejected as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
