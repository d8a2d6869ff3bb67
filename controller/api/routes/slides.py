"""Slide images for e-boards (operators): ``POST /api/v1/uploads/image`` stores one PNG/JPEG,
``POST /api/v1/uploads/pdf`` turns each page of a PDF into a PNG slide.

Like audio uploads the stored file is fetched by its hash at ``/media/{sha256}.{ext}``: by
its uploader (and admins) until an announcement or programme entry shows it, then by the
users and nodes that one reaches (:mod:`controller.services.media_access`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from controller.api.deps import ControllerDep, Operator
from controller.db.models import Media
from controller.services import pdf_slides, visual
from controller.services.container import Controller

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
    file: Annotated[UploadFile, File()], ctl: ControllerDep, who: Operator
) -> ImageOut:
    """Check (PNG/JPEG by its bytes, size) and store a slide image; nothing kept on reject."""
    name = file.filename or "image"
    data = await read_limited(file, visual.MAX_IMAGE_BYTES)

    try:
        (image,) = await run_in_threadpool(store_images, ctl, [data], name, who.username)
    except visual.ImageRejected as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return image


@router.post("/uploads/pdf", status_code=status.HTTP_201_CREATED)
async def upload_pdf(
    file: Annotated[UploadFile, File()], ctl: ControllerDep, who: Operator
) -> list[ImageOut]:
    """Each page of a PDF (page count and size limited) as a PNG slide, in page order."""
    name = file.filename or "document.pdf"
    data = await read_limited(file, pdf_slides.MAX_PDF_BYTES)

    def work() -> list[ImageOut]:
        return store_images(ctl, pdf_slides.pdf_to_pngs(data, name), name, who.username)

    try:
        return await run_in_threadpool(work)
    except (pdf_slides.PdfRejected, visual.ImageRejected) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def store_images(ctl: Controller, blobs: list[bytes], name: str, owner: str) -> list[ImageOut]:
    """Store every image or none (one transaction) with its uploader, described for them."""
    with ctl.sessions() as session:
        now = ctl.clock.now()
        rows = [visual.store_image(session, ctl.media_store, b, now, name, owner) for b in blobs]
        session.commit()
        return [image_out(ctl, row) for row in rows]


def image_out(ctl: Controller, media: Media) -> ImageOut:
    base = ctl.settings.resolved_public_url
    return ImageOut(
        sha256=media.sha256,
        ext=media.ext,
        size=media.size,
        url=f"{base}/media/{media.sha256}.{media.ext}",
    )
