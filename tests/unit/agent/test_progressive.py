"""Verified progressive playback (agent.progressive): the player's pipe only ever carries
chunks that matched the signed hashes; a bad chunk stops the stream and falls back."""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from agent.cache import MediaCache
from agent.progressive import ChunkStream, ProgressiveCommands
from protocol.chunks import build_chunked
from protocol.models import (
    Command,
    CommandAction,
    EventKind,
    ItemKind,
    MediaRef,
    PlaylistItem,
    Priority,
)

DATA = os.urandom(5 * 1024 + 300)  # chunks of 1 KiB: 5 full and a short one
SHA = hashlib.sha256(DATA).hexdigest()


class RangeServer:
    """The controller's /media route over a real httpx transport; ``body`` may be tampered."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.ranges: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        rng = request.headers.get("Range")
        self.ranges.append(rng)
        if rng:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            return httpx.Response(206, content=self.body[start:])
        return httpx.Response(200, content=self.body)

    def cache(self, directory: Path) -> MediaCache:
        client = httpx.Client(transport=httpx.MockTransport(self))
        return MediaCache(directory, "http://controller", 10**9, client)


def _tampered(index: int) -> bytes:
    body = bytearray(DATA)
    body[index * 1024 + 7] ^= 0xFF
    return bytes(body)


def _read_pipe(pipe: Path, into: bytearray) -> threading.Thread:
    def read() -> None:
        with open(pipe, "rb") as fh:
            while block := fh.read(4096):
                into.extend(block)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _stream(tmp_path: Path, body: bytes, head: bool = True) -> tuple[ChunkStream, MediaCache]:
    cache = RangeServer(body).cache(tmp_path / "media")
    chunks = build_chunked(DATA, "opus", 1024, inline_head=head)
    return ChunkStream(cache, chunks, tmp_path / "streams", start_chunks=2), cache


def test_verified_chunks_reach_the_player_and_the_whole_file_is_cached(tmp_path: Path) -> None:
    stream, cache = _stream(tmp_path, DATA)
    heard = bytearray()
    readers: list[threading.Thread] = []
    seen_at_start: list[int] = []

    def ready(pipe: Path) -> None:
        seen_at_start.append(stream.verified)
        readers.append(_read_pipe(pipe, heard))

    outcome = stream.run(ready)
    readers[0].join(10)
    assert outcome.started and outcome.complete and outcome.verified_chunks == 6
    assert seen_at_start == [2]  # the player started after the first two verified chunks
    assert bytes(heard) == DATA
    media = MediaRef(sha256=SHA, ext="opus", size=len(DATA), duration_s=1)
    assert cache.verified_path(media) is not None  # a repeat plays from the cache
    assert not list((tmp_path / "streams").iterdir())  # no spool, no pipe left


def test_a_tampered_chunk_never_reaches_the_player(tmp_path: Path) -> None:
    stream, cache = _stream(tmp_path, _tampered(3))
    heard = bytearray()
    readers: list[threading.Thread] = []
    outcome = stream.run(lambda pipe: readers.append(_read_pipe(pipe, heard)))
    readers[0].join(10)
    assert outcome.started and not outcome.complete
    assert outcome.verified_chunks == 3 and "chunk 3: hash mismatch" in outcome.reason
    assert bytes(heard) == DATA[: 3 * 1024]  # the verified prefix, not one byte more
    media = MediaRef(sha256=SHA, ext="opus", size=len(DATA), duration_s=1)
    assert cache.verified_path(media) is None
    assert not list((tmp_path / "streams").glob("*.spool"))


def test_a_tampered_first_chunk_never_starts_the_player(tmp_path: Path) -> None:
    stream, _ = _stream(tmp_path, _tampered(0), head=False)
    ready: list[Path] = []
    outcome = stream.run(ready.append)
    assert ready == [] and not outcome.started and outcome.verified_chunks == 0


def _command(chunked: bool = True) -> Command:
    now = datetime.now(UTC)
    media = MediaRef(sha256=SHA, ext="opus", size=len(DATA), duration_s=3)
    item = PlaylistItem(
        id="emg-1", kind=ItemKind.TTS, start=now, duration_s=3,
        priority=Priority.EMERGENCY, media=media,
    )  # fmt: skip
    return Command(
        id="c1", action=CommandAction.EMERGENCY, issued_at=now,
        expires_at=now + timedelta(minutes=5), zone_id="xa-a", item=item,
        chunks=build_chunked(DATA, "opus", 1024) if chunked else None,
    )  # fmt: skip


def test_a_failed_stream_is_reported_and_falls_back_to_the_full_verified_download(
    tmp_path: Path,
) -> None:
    server = RangeServer(_tampered(2))
    cache = server.cache(tmp_path / "media")
    submitted: list[Command] = []
    events: list[tuple[EventKind, str | None, str]] = []
    runner = ProgressiveCommands(
        cache, tmp_path / "streams", submitted.append, lambda k, i, c, d: events.append((k, i, d))
    )
    command = _command()
    media = command.item.media if command.item else None
    assert media is not None and runner.applies(command, media)
    outcome = runner.run(command)
    assert outcome.started and not outcome.complete
    [(kind, item_id, detail)] = events
    assert kind is EventKind.FAILED and item_id == "emg-1"
    assert "chunk 2: hash mismatch; falling back to the full verified download" in detail
    # submitted when the first chunk was verified, and again after the (failed) full download
    assert submitted == [command, command]
    assert server.ranges[-1] is None  # the fallback: a whole-file GET, hash-checked
    assert cache.verified_path(media) is None
    assert runner.source_for(media) is None


def test_the_pipe_is_handed_out_once_and_only_for_the_signed_encoding(tmp_path: Path) -> None:
    cache = RangeServer(DATA).cache(tmp_path / "media")
    command = _command()
    assert command.item is not None and command.item.media is not None
    runner = ProgressiveCommands(cache, tmp_path / "streams", lambda _c: None, lambda *_: None)
    mp3 = MediaRef(sha256="0" * 64, ext="mp3", size=10, duration_s=3)
    assert not runner.applies(command, mp3)  # an MP3 agent downloads whole, as before
    assert not runner.applies(_command(chunked=False), command.item.media)
    sources = []
    runner.submit = lambda _c: sources.append(runner.source_for(command.item.media))  # type: ignore[union-attr]
    runner.run(command)
    assert sources[0] is not None and sources[0].note.startswith("progressive: started after 1")
    assert runner.source_for(command.item.media) is None


class BrokenLink(RangeServer):
    """The link fails after the inline head: every Range request errors."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Range"):
            self.ranges.append(request.headers["Range"])
            return httpx.Response(503)
        return super().__call__(request)


def test_a_broken_link_after_the_first_chunk_falls_back_and_then_plays_verified(
    tmp_path: Path,
) -> None:
    """The stream stops at the HTTP error; the whole-file download (no Range) still works,
    so the item is played again from its start, from the verified cache."""
    server = BrokenLink(DATA)
    cache = server.cache(tmp_path / "media")
    submitted: list[Command] = []
    events: list[str] = []
    runner = ProgressiveCommands(
        cache, tmp_path / "streams", submitted.append, lambda k, i, c, d: events.append(d)
    )
    command = _command()
    outcome = runner.run(command)
    assert outcome.started and not outcome.complete and outcome.verified_chunks == 1
    assert "HTTP 503" in events[0] and "falling back" in events[0]
    assert submitted == [command, command]
    assert command.item is not None and command.item.media is not None
    assert cache.verified_path(command.item.media) is not None
