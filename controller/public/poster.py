"""The QR code on the printable poster: the commune's replay page as inline SVG."""

from __future__ import annotations

import segno


def qr_svg(url: str) -> str:
    """An SVG element (no XML declaration, scales to its box) encoding ``url``.

    Error correction "M" survives a creased, sun-faded print on a notice board.
    """
    code = segno.make_qr(url, error="m")
    svg: str = code.svg_inline(scale=8, border=4, dark="#000", light="#fff", omitsize=True)
    return svg
