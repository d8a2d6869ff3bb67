"""PDF pages -> PNG slides, on the controller with poppler's ``pdfinfo`` and ``pdftoppm``.

An agent shows only PNG/JPEG, so a PDF notice is converted once here and each page becomes
an ordinary slide image. A PDF is untrusted input for a parser written in C: it is checked by
its first bytes and size, its page count is read first and limited, each tool runs with a
timeout on a private temporary copy, and pages are rendered no larger than a full-HD screen.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_PDF_PAGES = 20
LONG_SIDE_PX = 1920
"""A board is a TV: pages are scaled so their long side fits a full-HD screen."""
_TIMEOUT_S = 60.0
_PAGES = re.compile(rb"^Pages:\s+(\d+)\s*$", re.MULTILINE)


class PdfRejected(ValueError):
    """A PDF that cannot become slides (the message says why)."""


def page_count(path: Path) -> int:
    try:
        done = subprocess.run(
            ["pdfinfo", str(path)], capture_output=True, timeout=_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise PdfRejected("reading the PDF took too long") from None
    found = _PAGES.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise PdfRejected("not a readable PDF")
    return int(found.group(1))


def pdf_to_pngs(data: bytes, name: str = "document.pdf") -> list[bytes]:
    """Every page of ``data`` as PNG bytes, in page order; raises ``PdfRejected``."""
    if not data.startswith(b"%PDF-"):
        raise PdfRejected(f"{name}: not a PDF")
    if len(data) > MAX_PDF_BYTES:
        raise PdfRejected(f"{name}: the file is over {MAX_PDF_BYTES // 1048576} MB")
    with tempfile.TemporaryDirectory(prefix="loa-pdf-") as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(data)
        pages = page_count(source)
        if pages < 1:
            raise PdfRejected(f"{name}: the PDF has no pages")
        if pages > MAX_PDF_PAGES:
            raise PdfRejected(f"{name}: {pages} pages; the limit is {MAX_PDF_PAGES}")
        out = Path(tmp) / "page"
        command = ["pdftoppm", "-png", "-scale-to", str(LONG_SIDE_PX), "-f", "1", "-l"]
        try:
            done = subprocess.run(
                [*command, str(pages), str(source), str(out)],
                capture_output=True,
                timeout=_TIMEOUT_S * 2,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PdfRejected(f"{name}: rendering the pages took too long") from None
        rendered = sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1]))
        if done.returncode != 0 or len(rendered) != pages:
            raise PdfRejected(f"{name}: the pages could not be rendered")
        return [p.read_bytes() for p in rendered]
