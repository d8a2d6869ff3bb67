"""What the media cache must hold ahead of time: every item's audio and its slide images.

Slides are content-addressed like audio (``/media/{sha256}.{png|jpg}``), so they go through
the same verified download, retry/backoff and eviction rules. An e-board then shows them from
the cache when the link is down, and a slide whose bytes do not match its hash never reaches
the screen.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.cache import Cacheable
from protocol.models import PlaylistItem


def slide_images(item: PlaylistItem) -> list[Cacheable]:
    """The images ``item`` shows on a screen, in slide order."""
    return [s.image for s in item.visual.slides] if item.visual is not None else []


def wanted_files(items: Iterable[PlaylistItem]) -> list[Cacheable]:
    """Everything ``items`` need in the cache, in play order: audio, its fallback, slides.

    Within one item the audio comes first: a slide missing at air time only blanks the
    picture, a missing recording skips the bulletin.
    """
    wanted: list[Cacheable] = []
    for item in items:
        wanted.extend(m for m in (item.media, item.fallback) if m is not None)
        wanted.extend(slide_images(item))
    return wanted
