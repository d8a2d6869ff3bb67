"""Signed chunk hashes for a fresh emergency's speech (see :mod:`protocol.chunks`).

The chunks describe the smallest encoding the item offers (the Opus rendition beside the
MP3): that is what weak-link agents fetch, and any prefix of it is playable. An agent that
picks another encoding ignores them and downloads its file whole, as before.
"""

from __future__ import annotations

import logging

from audio.media_store import MediaStore
from protocol.chunks import DEFAULT_CHUNK, ChunkedMedia, ChunkError, build_chunked
from protocol.models import MediaRef, PlaylistItem

log = logging.getLogger(__name__)

STREAMABLE = ("opus", "ogg", "mp3")
"""Encodings a player decodes from a growing stream (WAV needs its header's sizes)."""


def smallest_streamable(media: MediaRef) -> MediaRef | None:
    """The item's smallest encoding that plays from any prefix, or None."""
    offered = [media, *(media.in_format([a.ext]) for a in media.alternatives or [])]
    playable = [m for m in offered if m.ext in STREAMABLE]
    return min(playable, key=lambda m: m.size) if playable else None


def chunks_for(
    store: MediaStore, item: PlaylistItem, chunk_size: int = DEFAULT_CHUNK
) -> ChunkedMedia | None:
    """The chunk list (first chunk inline) of the item's smallest streamable encoding."""
    if item.media is None:
        return None
    chosen = smallest_streamable(item.media)
    if chosen is None:
        return None
    path = store.resolve(chosen.filename)
    if path is None:
        return None
    try:
        return build_chunked(path.read_bytes(), chosen.ext, chunk_size)
    except (OSError, ChunkError, ValueError) as exc:
        log.warning("no chunk list for %s: %s", chosen.filename, exc)
        return None
