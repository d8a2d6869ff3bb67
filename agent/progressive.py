"""Verified progressive playback: a fresh emergency starts after its first verified chunk.

The signed command lists the SHA-256 of every fixed-size chunk of the media
(:mod:`protocol.chunks`), often with the first chunk inline. :class:`ChunkStream` takes the
inline head, then fetches the rest chunk by chunk with HTTP ``Range`` requests, checks each
against the signed list and only then (a) appends it to a spool file and (b) queues it for
a named pipe the player reads. The player is given the pipe once ``start_chunks`` are
verified, so it only ever sees signed bytes; when every chunk is in, the spool's whole-file
hash is checked too and it becomes the cached file (a repeat plays from the cache).

A chunk that does not match, an HTTP error or a stall stops the stream: the pipe is closed
after the bytes already verified (nothing else reaches the player) and the caller falls back
to the full verified download (:meth:`agent.cache.MediaCache.fetch`), and reports it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import threading
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

from agent.cache import MediaCache, MediaError
from agent.playout import Source
from protocol.chunks import ChunkedMedia, ChunkError
from protocol.models import Command, EventKind, MediaRef

log = logging.getLogger(__name__)

READER_WAIT_S = 30.0
"""How long the pipe waits for a player to open it (a player that never reads, e.g. ``tap``)."""


class StreamAborted(Exception):
    """The progressive download stopped (bad chunk, HTTP error, stall); reason in the text."""


@dataclass(frozen=True)
class StreamOutcome:
    started: bool  # the player was handed the pipe
    complete: bool  # every chunk verified and the file is in the cache
    verified_chunks: int
    reason: str = ""


class PipeFeed:
    """A named pipe fed from a queue of verified bytes by its own thread.

    Opening for writing waits (non-blocking retries) until a reader opens it, for up to
    ``reader_wait_s``; writes wait on ``select`` so :meth:`abort` always ends the thread."""

    def __init__(self, path: Path, reader_wait_s: float = READER_WAIT_S) -> None:
        self.path = path
        self.reader_wait_s = reader_wait_s
        os.mkfifo(path, 0o600)
        self._queue: list[bytes] = []
        self._cond = threading.Condition()
        self._closed = False  # no more bytes will come
        self._aborted = False
        self.written = 0
        self._thread = threading.Thread(target=self._run, name="pipe-feed", daemon=True)
        self._thread.start()

    def push(self, data: bytes) -> None:
        with self._cond:
            self._queue.append(data)
            self._cond.notify_all()

    def close(self) -> None:
        """No more bytes: the reader gets end-of-file after what was pushed."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def abort(self) -> None:
        with self._cond:
            self._aborted = self._closed = True
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _open(self) -> int | None:
        deadline = time.monotonic() + self.reader_wait_s
        while time.monotonic() < deadline:
            with self._cond:
                if self._aborted:
                    return None
            try:
                return os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                    log.warning("stream pipe %s: %s", self.path.name, exc)
                    return None
            time.sleep(0.02)
        log.info("stream pipe %s: no player opened it", self.path.name)
        return None

    def _next(self) -> bytes | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait(0.5)
            if self._aborted or not self._queue:
                return None
            return self._queue.pop(0)

    def _write_all(self, fd: int, data: bytes) -> bool:
        view = memoryview(data)
        while view:
            with self._cond:
                if self._aborted:
                    return False
            _, ready, _ = select.select([], [fd], [], 0.5)
            if not ready:
                continue
            try:
                sent = os.write(fd, view)
            except BlockingIOError:
                continue
            except OSError:  # EPIPE: the player went away
                return False
            view = view[sent:]
            self.written += sent
        return True

    def _run(self) -> None:
        fd = self._open()
        with contextlib.suppress(OSError):
            self.path.unlink()  # both ends are open (or never will be): the name is done
        try:
            while fd is not None:
                data = self._next()
                if data is None or not self._write_all(fd, data):
                    break
        finally:
            if fd is not None:
                os.close(fd)


class ChunkStream:
    """One progressive download of ``chunks`` (the item's chosen encoding)."""

    def __init__(
        self,
        cache: MediaCache,
        chunks: ChunkedMedia,
        spool_dir: Path,
        start_chunks: int = 1,
        chunk_timeout_s: float = 10.0,
    ) -> None:
        self.cache = cache
        self.chunks = chunks
        self.start_chunks = max(1, min(start_chunks, chunks.count))
        self.chunk_timeout_s = chunk_timeout_s
        spool_dir.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex[:12]
        self.spool = spool_dir / f"{chunks.filename}.{token}.spool"
        self.pipe_path = spool_dir / f"{chunks.filename}.{token}.pipe"
        self.feed: PipeFeed | None = None
        self.verified = 0

    @property
    def media(self) -> MediaRef:
        return MediaRef(sha256=self.chunks.sha256, ext=self.chunks.ext, size=self.chunks.size,
                        duration_s=0)  # fmt: skip

    def run(self, on_ready: Callable[[Path], None]) -> StreamOutcome:
        """Fetch, verify and feed every chunk; ``on_ready(pipe)`` once the first
        ``start_chunks`` are verified (never for a stream that fails before that)."""
        self.feed = PipeFeed(self.pipe_path)
        started = False
        try:
            with open(self.spool, "wb") as out, contextlib.closing(self._raw_chunks()) as raws:
                for index, raw in enumerate(raws):
                    data = self.chunks.verify(index, raw)
                    out.write(data)
                    self.feed.push(data)
                    self.verified = index + 1
                    if not started and self.verified >= self.start_chunks:
                        started = True
                        on_ready(self.pipe_path)
                if self.verified != self.chunks.count:
                    raise StreamAborted(f"only {self.verified} of {self.chunks.count} chunks came")
                out.flush()
                os.fsync(out.fileno())
            self.feed.close()
            self.cache.install(self.media, self.spool)
            return StreamOutcome(started, True, self.verified)
        except (ChunkError, MediaError, OSError, StreamAborted) as exc:
            if started:
                self.feed.close()  # the player ends after the bytes already verified
            else:
                self.feed.abort()  # no player was given the pipe: do not wait for one
            with contextlib.suppress(OSError):
                self.spool.unlink()
            return StreamOutcome(started, False, self.verified, str(exc))

    def _raw_chunks(self) -> Generator[bytes]:
        """The inline head, then one ``Range`` request for the rest, cut at chunk
        boundaries (one request: no round trip per chunk on a 300 ms link)."""
        head = self.chunks.head_bytes()
        offset = 0
        if head is not None:
            yield head
            offset = len(head)
        if offset >= self.chunks.size:
            return
        import httpx

        url = self.cache.url_for(self.media)
        timeout = httpx.Timeout(self.chunk_timeout_s, connect=self.chunk_timeout_s)
        index = offset // self.chunks.chunk_size
        pending = b""
        try:
            with self.cache.http().stream(
                "GET", url, headers={"Range": f"bytes={offset}-"}, timeout=timeout
            ) as resp:
                if resp.status_code not in (200, 206):
                    raise StreamAborted(f"HTTP {resp.status_code}")
                skip = offset if resp.status_code == 200 else 0  # a server without Range
                for block in resp.iter_bytes():
                    if skip:
                        cut = min(skip, len(block))
                        block, skip = block[cut:], skip - cut
                    pending += block
                    while index < self.chunks.count:
                        want = self.chunks.length_of(index)
                        if len(pending) < want:
                            break
                        yield pending[:want]
                        pending = pending[want:]
                        index += 1
                    if index >= self.chunks.count and pending:
                        raise StreamAborted(f"more than the signed {self.chunks.size} bytes")
        except httpx.HTTPError as exc:
            raise StreamAborted(f"chunk {index}: {exc or type(exc).__name__}") from None


Submit = Callable[[Command], None]
Emit = Callable[[EventKind, str | None, str | None, str], None]


class ProgressiveCommands:
    """The runtime's side: which commands stream, the pipe handed out (once) to the
    playout's resolve, and the fallback to the full verified download when a stream fails."""

    def __init__(
        self,
        cache: MediaCache,
        spool_dir: Path,
        submit: Submit,
        emit: Emit,
        start_chunks: int = 1,
    ) -> None:
        self.cache = cache
        self.spool_dir = spool_dir
        self.submit = submit
        self.emit = emit
        self.start_chunks = start_chunks
        self._ready: dict[str, Source] = {}
        self._lock = threading.Lock()

    @staticmethod
    def applies(command: Command, media: MediaRef) -> bool:
        """The command signs chunks of exactly the encoding this agent chose to play."""
        chunks = command.chunks
        return (
            chunks is not None
            and chunks.sha256 == media.sha256
            and chunks.ext == media.ext
            and chunks.size == media.size
        )

    def start(self, command: Command) -> None:
        threading.Thread(target=self.run, args=(command,), daemon=True).start()

    def source_for(self, media: MediaRef) -> Source | None:
        """The pipe of a stream that is ready, handed out once (a pipe is read once)."""
        with self._lock:
            return self._ready.pop(media.filename, None)

    def run(self, command: Command) -> StreamOutcome:
        chunks, item = command.chunks, command.item
        assert chunks is not None and item is not None and item.media is not None
        media = item.media
        stream = ChunkStream(self.cache, chunks, self.spool_dir, self.start_chunks)

        def ready(pipe: Path) -> None:
            kib = chunks.chunk_size // 1024
            note = (
                f"progressive: started after {stream.verified} of {chunks.count} verified"
                f" chunks ({kib} KiB)"
            )
            with self._lock:
                self._ready[media.filename] = Source(str(pipe), note)
            self.submit(command)

        outcome = stream.run(ready)
        with self._lock:
            self._ready.pop(media.filename, None)
        if outcome.complete:
            log.info(
                "command %s: %d chunks verified and cached", command.id, outcome.verified_chunks
            )
            return outcome
        detail = (
            f"progressive playback stopped after {outcome.verified_chunks} verified chunk(s):"
            f" {outcome.reason}; falling back to the full verified download"
        )
        log.warning("command %s: %s", command.id, detail)
        self.emit(EventKind.FAILED, item.id, command.id, detail)
        try:
            self.cache.fetch(media)
        except (MediaError, OSError) as exc:
            log.warning("command %s media not fetched: %s", command.id, exc)
        self.submit(command)  # from the cache, from its start, or reported as not verified
        return outcome
