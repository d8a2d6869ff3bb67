"""Slide images are fetched ahead like audio: same verified cache, retries and eviction rules,
and the board shows only slides whose verified bytes are in the cache."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.images import png
from unit.agent.test_cache import BODY, Server, ref

from agent.board import board_state
from agent.cache import CacheWorker
from agent.prefetch import slide_images, wanted_files
from protocol.clock import FakeClock
from protocol.models import ImageRef, ItemKind, PlaylistItem, Slide, Visual

T0 = datetime(2026, 3, 1, 7, tzinfo=UTC)


def image(data: bytes) -> ImageRef:
    return ImageRef(sha256=hashlib.sha256(data).hexdigest(), ext="png", size=len(data))


def item(item_id: str, images: list[ImageRef], audio: bytes | None = BODY) -> PlaylistItem:
    return PlaylistItem(
        id=item_id,
        kind=ItemKind.AUDIO if audio is not None else ItemKind.SILENCE,
        start=T0 + timedelta(minutes=5),
        duration_s=10,
        media=ref(audio) if audio is not None else None,
        visual=Visual(text="Họp thôn", slides=[Slide(image=i, duration_s=4) for i in images]),
    )


def test_wanted_files_lists_audio_then_slides_in_play_order() -> None:
    a, b, c = image(png(rgb=(1, 2, 3))), image(png(rgb=(4, 5, 6))), image(png(rgb=(7, 8, 9)))
    first, second = item("ann-1", [a, b]), item("ann-2", [c], audio=None)
    assert first.media is not None
    names = [m.filename for m in wanted_files([first, second])]
    assert names == [first.media.filename, a.filename, b.filename, c.filename]
    assert slide_images(PlaylistItem(id="x", kind=ItemKind.SILENCE, start=T0, duration_s=1)) == []


def test_worker_fetches_slides_verified_and_refuses_a_tampered_one(tmp_path: Path) -> None:
    good, other, signed = png(rgb=(0, 200, 0)), png(rgb=(0, 0, 200)), png(rgb=(9, 9, 9))
    tampered = signed[:20] + bytes([signed[20] ^ 1]) + signed[21:]  # same size: only the hash
    refs = [image(good), image(other), image(signed)]
    server = Server({refs[0].filename: good, refs[1].filename: other, refs[2].filename: tampered})
    clock = FakeClock(T0)
    cache = server.cache(tmp_path)
    worker = CacheWorker(cache, clock, retry_min_s=1, retry_max_s=60)
    worker.want(wanted_files([item("ann-1", refs, audio=None)]))
    delay = worker.run_once()
    assert [cache.has(r) for r in refs] == [True, True, False]
    assert (tmp_path / refs[0].filename).read_bytes() == good
    assert not list(tmp_path.glob("*.part")) and worker.missing() == [refs[2]]
    assert delay == 1.0  # the refused slide is retried with the audio's backoff
    worker.run_once()
    assert len(server.requests) == 3  # not due yet: no new request on a weak link
    clock.advance(delay)
    worker.run_once()
    assert len(server.requests) == 4 and not cache.has(refs[2])


def test_eviction_spares_the_slides_the_playlist_still_needs(tmp_path: Path) -> None:
    blobs = [png(width=40, rgb=(n, n, n)) for n in range(4)]
    refs = [image(b) for b in blobs]
    server = Server({r.filename: b for r, b in zip(refs, blobs, strict=True)})
    cache = server.cache(tmp_path, max_bytes=len(blobs[0]) * 2 + 10)
    for age, r in enumerate(refs[2:]):  # older slides of items no longer in the playlist
        os.utime(cache.fetch(r), (1000 + age, 1000 + age))
    worker = CacheWorker(cache, FakeClock(T0), 1, 60)
    worker.want(wanted_files([item("ann-2", refs[:2], audio=None)]))
    worker.run_once()
    assert cache.has(refs[0]) and cache.has(refs[1])
    assert not (tmp_path / refs[2].filename).exists()
    assert not (tmp_path / refs[3].filename).exists()


def test_want_also_adds_a_commands_slides_until_the_next_playlist(tmp_path: Path) -> None:
    data = png(rgb=(250, 0, 0))
    slide = image(data)
    server = Server({slide.filename: data})
    worker = CacheWorker(server.cache(tmp_path), FakeClock(T0), 1, 60)
    worker.want([])
    worker.want_also([slide, slide])
    assert worker.missing() == [slide]
    worker.run_once()
    assert worker.missing() == [] and len(server.requests) == 1


def test_board_shows_only_cached_slides() -> None:
    a, b = image(png(rgb=(1, 1, 1))), image(png(rgb=(2, 2, 2)))
    playing = item("ann-1", [a, b])
    shown = board_state(playing, None, cached=lambda i: i.sha256 == b.sha256)
    assert [s.filename for s in shown.slides] == [b.filename]
    assert len(board_state(playing, None).slides) == 2
