"""Name the Opus rendition beside each MP3 an item plays (agents pick what they can play)."""

from __future__ import annotations

from audio.renditions import OpusRenditions
from protocol.models import MediaAlt, PlaylistItem


def with_alternatives(item: PlaylistItem, renditions: OpusRenditions | None) -> PlaylistItem:
    """``item`` with its media's Opus rendition listed (made on first use), or unchanged."""
    media = item.media
    if renditions is None or media is None or media.alternatives:
        return item
    made = renditions.opus_for(media.sha256, media.ext)
    if made is None:
        return item
    alt = MediaAlt(sha256=made.sha256, ext=made.ext, size=made.size)
    return item.model_copy(update={"media": media.model_copy(update={"alternatives": [alt]})})
