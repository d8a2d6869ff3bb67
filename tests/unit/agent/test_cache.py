"""Media cache: resumable, hash-checked downloads; LRU eviction that spares the playlist."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from agent.cache import CacheWorker, MediaCache, MediaError
from protocol.clock import FakeClock
from protocol.models import MediaRef

BODY = bytes(range(256)) * 40


def ref(data: bytes, ext: str = "mp3") -> MediaRef:
    return MediaRef(
        sha256=hashlib.sha256(data).hexdigest(),
        ext=ext,
        size=len(data),
        duration_s=1,
    )


class Server:
    """A real httpx transport answering like the controller's /media route."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[httpx.Request] = []
        self.fail = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            self.fail -= 1
            return httpx.Response(503)
        data = self.files.get(request.url.path.removeprefix("/media/"))
        if data is None:
            return httpx.Response(404)
        rng = request.headers.get("Range")
        if rng:
            start = int(rng.removeprefix("bytes=").rstrip("-"))
            return httpx.Response(206, content=data[start:])
        return httpx.Response(200, content=data)

    def cache(
        self, directory: Path, max_bytes: int = 10**9, auth: tuple[str, str] | None = None
    ) -> MediaCache:
        client = httpx.Client(transport=httpx.MockTransport(self))
        return MediaCache(directory, "http://controller", max_bytes, client, auth=auth)


def test_download_verifies_and_moves_into_place(tmp_path: Path) -> None:
    media = ref(BODY)
    server = Server({media.filename: BODY})
    cache = server.cache(tmp_path)
    path = cache.fetch(media)
    assert path.read_bytes() == BODY
    assert not list(tmp_path.glob("*.part"))
    cache.fetch(media)
    assert len(server.requests) == 1  # cached: no second download


def test_downloads_carry_the_nodes_credentials_when_it_has_them(tmp_path: Path) -> None:
    media = ref(BODY)
    server = Server({media.filename: BODY})
    server.cache(tmp_path / "with", auth=("node-loa-1", "s3cret")).fetch(media)
    server.cache(tmp_path / "without").fetch(media)
    with_auth, without = server.requests
    expected = "Basic " + base64.b64encode(b"node-loa-1:s3cret").decode()
    assert with_auth.headers["authorization"] == expected
    assert "authorization" not in without.headers


def test_partial_download_resumes_with_range(tmp_path: Path) -> None:
    media = ref(BODY)
    server = Server({media.filename: BODY})
    cache = server.cache(tmp_path)
    (tmp_path / (media.filename + ".part")).write_bytes(BODY[:3000])
    assert cache.fetch(media).read_bytes() == BODY
    assert server.requests[0].headers["Range"] == "bytes=3000-"


def test_hash_mismatch_is_refused_and_partial_removed(tmp_path: Path) -> None:
    media = ref(BODY)
    server = Server({media.filename: BODY[:-1] + b"X"})
    cache = server.cache(tmp_path)
    with pytest.raises(MediaError, match="hash mismatch"):
        cache.fetch(media)
    assert not cache.has(media)
    assert not list(tmp_path.glob("*.part"))


def test_oversized_download_is_aborted(tmp_path: Path) -> None:
    media = ref(BODY)
    server = Server({media.filename: BODY + BODY})
    with pytest.raises(MediaError, match="larger"):
        server.cache(tmp_path).fetch(media)


def test_lru_eviction_never_removes_protected_files(tmp_path: Path) -> None:
    blobs = [bytes([n]) * 1000 for n in range(5)]
    refs = [ref(b) for b in blobs]
    cache = Server({r.filename: b for r, b in zip(refs, blobs, strict=True)}).cache(
        tmp_path, max_bytes=2500
    )
    for age, media in enumerate(refs):
        path = cache.fetch(media)
        os.utime(path, (1000 + age, 1000 + age))  # refs[0] is the least recently used
    removed = cache.evict(protected=[refs[0].filename, refs[1].filename])
    assert removed == [refs[2].filename, refs[3].filename, refs[4].filename]
    assert cache.has(refs[0]) and cache.has(refs[1])


def test_touch_makes_a_file_recent(tmp_path: Path) -> None:
    blobs = [bytes([n]) * 1000 for n in range(3)]
    refs = [ref(b) for b in blobs]
    cache = Server({r.filename: b for r, b in zip(refs, blobs, strict=True)}).cache(
        tmp_path, max_bytes=2000
    )
    for age, media in enumerate(refs):
        os.utime(cache.fetch(media), (1000 + age, 1000 + age))
    cache.touch(refs[0])
    assert cache.evict(protected=[]) == [refs[1].filename]


def test_worker_retries_failed_downloads_with_backoff(tmp_path: Path) -> None:
    media = ref(BODY)
    server = Server({media.filename: BODY})
    server.fail = 2
    clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
    worker = CacheWorker(server.cache(tmp_path), clock, retry_min_s=1, retry_max_s=60)
    worker.want([media, media])
    delay = worker.run_once()
    assert delay == 1.0 and len(server.requests) == 1  # first retry waits retry_min_s
    assert worker.run_once() > 0 and len(server.requests) == 1  # not due yet: no request
    clock.advance(delay)
    worker.run_once()
    assert len(server.requests) == 2 and worker.missing() == [media]
    clock.advance(60)
    worker.run_once()
    assert worker.missing() == []


def test_a_file_found_on_disk_counts_only_once_its_hash_matches(tmp_path: Path) -> None:
    """A file left by an earlier run or damaged on the SD card is hashed before it counts;
    a wrong one is deleted and downloaded again (issue 14, hole 5)."""
    media = ref(BODY)
    server = Server({media.filename: BODY})
    cache = server.cache(tmp_path)
    cache.path_for(media).write_bytes(BODY[:-1] + b"\x00")
    assert not cache.has(media) and cache.verified_path(media) is None
    assert not cache.path_for(media).exists()
    assert cache.fetch(media).read_bytes() == BODY and len(server.requests) == 1
    assert cache.verified_path(media) == cache.path_for(media)


def test_worker_announces_each_verified_download(tmp_path: Path) -> None:
    good, bad = ref(BODY), ref(b"signed bytes")
    server = Server({good.filename: BODY, bad.filename: b"other bytes"})
    fetched: list[int] = []
    clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
    worker = CacheWorker(server.cache(tmp_path), clock, 1, 60, on_fetched=lambda: fetched.append(1))
    worker.want([bad, good])
    worker.run_once()
    assert fetched == [1] and worker.missing() == [bad]
