"""Which encoding of a fresh emergency gets signed chunk hashes (controller side)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from audio.media_store import MediaStore
from controller.services.emergency_chunks import chunks_for, smallest_streamable
from protocol.models import ItemKind, MediaAlt, MediaRef, PlaylistItem

NOW = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def _item(
    store: MediaStore, main: tuple[bytes, str], alt: tuple[bytes, str] | None
) -> PlaylistItem:
    stored = store.put_bytes(*main)
    alts = None
    if alt is not None:
        a = store.put_bytes(*alt)
        alts = [MediaAlt(sha256=a.sha256, ext=a.ext, size=a.size)]  # type: ignore[arg-type]
    media = MediaRef(
        sha256=stored.sha256, ext=stored.ext, size=stored.size, duration_s=20, alternatives=alts
    )  # type: ignore[arg-type]
    return PlaylistItem(id="emg-1", kind=ItemKind.TTS, start=NOW, duration_s=20, media=media)


def test_the_opus_rendition_beside_the_mp3_is_the_one_chunked(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    opus = os.urandom(9000)
    item = _item(store, (os.urandom(30000), "mp3"), (opus, "opus"))
    chunks = chunks_for(store, item, 4096)
    assert chunks is not None and chunks.ext == "opus" and chunks.size == 9000
    assert chunks.count == 3 and chunks.head_bytes() == opus[:4096]


def test_an_mp3_alone_is_chunked_and_a_wav_is_not(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    mp3 = _item(store, (os.urandom(5000), "mp3"), None)
    assert chunks_for(store, mp3, 1024) is not None
    wav = _item(store, (os.urandom(5000), "wav"), None)  # needs its header's sizes: no prefix
    assert wav.media is not None and smallest_streamable(wav.media) is None
    assert chunks_for(store, wav, 1024) is None


def test_missing_media_gives_no_chunks(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    item = _item(store, (os.urandom(5000), "mp3"), None)
    assert item.media is not None
    store.path_for(item.media.sha256, "mp3").unlink()
    assert chunks_for(store, item, 1024) is None
