"""The compose page's e-board section: slide uploads (images, PDF pages) and the preview.

The preview serves the agent's kiosk page itself (``protocol.kiosk``) with the composed state,
so the operator sees exactly what a node's screen will show.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse

from controller.panel import board_preview
from controller.panel.page import OperatorPage, PanelNotFound
from controller.services import pdf_slides, visual
from protocol.kiosk import kiosk_page

router = APIRouter(prefix="/panel/announcements", include_in_schema=False)
log = logging.getLogger("loa.panel")


@router.post("/upload-slide")
async def upload_slide(
    page: OperatorPage, file: Annotated[UploadFile | None, File()] = None
) -> JSONResponse:
    """A PNG/JPEG slide, or a PDF whose every page becomes one; answers the slides in order."""
    name = (file.filename if file else None) or "slide"
    refused = JSONResponse({"error": page.t("board.upload_failed", name=name)}, 422)
    if file is None:
        return refused
    data = await file.read(pdf_slides.MAX_PDF_BYTES + 1)
    await file.close()

    def work() -> list[dict[str, object]]:
        blobs = pdf_slides.pdf_to_pngs(data, name) if data.startswith(b"%PDF-") else [data]
        with page.ctl.sessions() as session:
            now = page.ctl.clock.now()
            owner = page.principal.username
            rows = [
                visual.store_image(session, page.ctl.media_store, b, now, name, owner)
                for b in blobs
            ]
            session.commit()
            return [
                {"sha256": r.sha256, "ext": r.ext, "url": f"/media/{r.sha256}.{r.ext}"}
                for r in rows
            ]

    try:
        return JSONResponse({"slides": await run_in_threadpool(work)})
    except (pdf_slides.PdfRejected, visual.ImageRejected) as exc:
        log.info("slide upload refused: %s", exc)
        return refused


def _board(token: str) -> board_preview.PreviewBoard:
    board = board_preview.decode(token)
    if board is None:
        raise PanelNotFound("board preview")
    return board


@router.get("/board-preview/{token}/")
def board_page(page: OperatorPage, token: str) -> HTMLResponse:
    """The kiosk page (it then polls ``state.json`` beside it)."""
    _board(token)
    headers = {"Content-Security-Policy": board_preview.CSP, "Cache-Control": "no-store"}
    return HTMLResponse(kiosk_page(), headers=headers)


@router.get("/board-preview/{token}/state.json")
def board_state(page: OperatorPage, token: str) -> JSONResponse:
    state = board_preview.kiosk_state(_board(token))
    return JSONResponse(state, headers={"Cache-Control": "no-store"})
