"""Name the Opus rendition beside each MP3 an item plays (agents pick what they can play)."""

from __future__ import annotations

import threading

from audio.renditions import OpusRenditions
from protocol.models import MediaAlt, PlaylistItem


def with_alternatives(
    item: PlaylistItem, renditions: OpusRenditions | None, *, wait: bool = True
) -> PlaylistItem:
    """``item`` with its media's Opus rendition listed (made on first use), or unchanged.

    ``wait=False`` is for an emergency from a stored recording: its MP3 is usually already in
    every agent's cache, so the command goes out at once with the rendition only if it exists;
    a missing one is made in the background for the next time (encoding takes ~1 s).
    """
    media = item.media
    if renditions is None or media is None or media.alternatives:
        return item
    if wait:
        made = renditions.opus_for(media.sha256, media.ext)
    else:
        made = renditions.known(media.sha256, media.ext)
        if made is None:
            threading.Thread(
                target=renditions.opus_for,
                args=(media.sha256, media.ext),
                name="opus-rendition",
                daemon=True,
            ).start()
    if made is None:
        return item
    alt = MediaAlt(sha256=made.sha256, ext=made.ext, size=made.size)
    return item.model_copy(update={"media": media.model_copy(update={"alternatives": [alt]})})
