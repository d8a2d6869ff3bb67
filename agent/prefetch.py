"""What the media cache must hold ahead of time: every item's audio and its slide images.

Slides are content-addressed like audio (``/media/{sha256}.{png|jpg}``), so they go through
the same verified download, retry/backoff and eviction rules. An e-board then shows them from
the cache when the link is down, and a slide whose bytes do not match its hash never reaches
the screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from agent.cache import Cacheable
from agent.fetch_deadline import Need
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


def item_need(item: PlaylistItem) -> Need:
    """When ``item``'s files are needed: from its start until its end."""
    return Need(item.start, item.start + timedelta(seconds=item.duration_s))


def needs_of(items: Iterable[PlaylistItem]) -> dict[str, list[Need]]:
    """For each file ``wanted_files`` lists, every time it is needed: a failing download is
    retried before the earliest of them (agent.fetch_deadline)."""
    needs: dict[str, list[Need]] = {}
    for item in items:
        files = [m for m in (item.media, item.fallback) if m is not None]
        for f in [*files, *slide_images(item)]:
            needs.setdefault(f.filename, []).append(item_need(item))
    return needs
