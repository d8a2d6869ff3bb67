"""The e-board's kiosk page, shared: the agent serves it to its screen on loopback and the
controller's panel serves the very same page as the board preview.

The page fetches ``state.json`` relative to its own address (once a second) and shows the
slides at the URLs that state names, so each server decides where those live.
"""

from __future__ import annotations

from importlib import resources


def kiosk_page() -> bytes:
    return resources.files("protocol").joinpath("kiosk.html").read_bytes()
