"""A second, smaller encoding of stored speech for agents that can play it (Opus).

Why: a commune notice as 56 kbit/s MP3 costs a village SIM ~420 KB a minute; the same
speech as mono Opus (``-application voip``, 16 kbit/s, Ogg) costs ~135 KB and stays as
intelligible (docs/audio.md, "Opus for weak links"). Old agents keep the MP3; the playlist
names the Opus file beside it and a newer agent fetches only that one.

The rendition is made once per source file from the stored MP3 and remembered in a small
index file beside the media (``renditions/<sha>.opus.json``), so a republish costs nothing.
A reverse entry (``renditions/sources/<opus sha>``) names the source of each rendition: who
may fetch the Opus file is decided by the uses of its MP3 (controller/services/media_access).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from audio.errors import AudioError
from audio.ffmpeg import ffmpeg, input_args
from audio.formats import OPUS
from audio.media_store import MediaStore

log = logging.getLogger(__name__)

OPUS_KBPS = 16


@dataclass(frozen=True)
class Rendition:
    sha256: str
    ext: str
    size: int


class OpusRenditions:
    """``opus_for(sha, ext)``: the Opus rendition of a stored MP3 (made on first use)."""

    def __init__(self, store: MediaStore, kbps: int = OPUS_KBPS) -> None:
        self.store = store
        self.kbps = kbps
        OPUS.encoder_args(kbps)  # a bad bitrate fails at start-up
        self._index = store.root / "renditions"
        self._lock = threading.Lock()
        self._sources = self._index / "sources"
        self._backfilled = False

    def _index_file(self, sha256: str) -> Path:
        return self._index / f"{sha256}.opus{self.kbps}.json"

    def opus_for(self, sha256: str, ext: str) -> Rendition | None:
        """The rendition, or None (not an MP3, source missing, or ffmpeg failed: logged)."""
        if ext != "mp3":
            return None
        source = self.store.resolve(f"{sha256}.{ext}")
        if source is None:
            return None
        with self._lock:
            known = self._read(sha256)
            if known is not None:
                return known
            try:
                data, _ = ffmpeg(
                    [*input_args(source), "-vn", "-map_metadata", "-1",
                     *OPUS.encoder_args(self.kbps), "-f", OPUS.container, "pipe:1"]
                )  # fmt: skip
            except AudioError as exc:
                log.warning("no Opus rendition of %s: %s", sha256[:12], exc)
                return None
            stored = self.store.put_bytes(data, OPUS.ext)
            made = Rendition(stored.sha256, stored.ext, stored.size)
            self._index.mkdir(parents=True, exist_ok=True)
            self._write_source(made.sha256, sha256)
            tmp = self._index_file(sha256).with_suffix(".part")
            tmp.write_text(json.dumps(made.__dict__))
            tmp.replace(self._index_file(sha256))
            return made

    def source_of(self, sha256: str) -> str | None:
        """The SHA-256 of the MP3 this file is a rendition of, or None (not a rendition).

        Renditions made before the reverse entries existed are indexed on the first miss,
        once per process (one read of each index file)."""
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            return None
        found = self._read_source(sha256)
        if found is None and not self._backfilled:
            with self._lock:
                if not self._backfilled:
                    self._backfill()
                    self._backfilled = True
            found = self._read_source(sha256)
        return found

    def _read_source(self, sha256: str) -> str | None:
        try:
            return (self._sources / sha256).read_text().strip() or None
        except OSError:
            return None

    def _write_source(self, rendition: str, source: str) -> None:
        self._sources.mkdir(parents=True, exist_ok=True)
        tmp = self._sources / f"{rendition}.part"
        tmp.write_text(source)
        tmp.replace(self._sources / rendition)

    def _backfill(self) -> None:
        for index in self._index.glob(f"*.opus{self.kbps}.json"):
            made = self._read(index.name.partition(".")[0])
            if made is not None and self._read_source(made.sha256) is None:
                self._write_source(made.sha256, index.name.partition(".")[0])

    def known(self, sha256: str, ext: str) -> Rendition | None:
        """The rendition if it was already made, never encoding: for paths that must not wait."""
        return self._read(sha256) if ext == "mp3" else None

    def _read(self, sha256: str) -> Rendition | None:
        try:
            data = json.loads(self._index_file(sha256).read_text())
            made = Rendition(str(data["sha256"]), str(data["ext"]), int(data["size"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return made if self.store.resolve(f"{made.sha256}.{made.ext}") is not None else None
