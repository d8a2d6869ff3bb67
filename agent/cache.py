"""The media cache: content-addressed files downloaded by hash, checked, and kept within a size.

Downloads go to ``<sha>.<ext>.part`` and resume with an HTTP ``Range`` request after a cut
link; only a file whose SHA-256 matches is renamed into place. ``has`` answers for verified
bytes only: a file this process did not download itself (left by an earlier run, or damaged
on the SD card) is hashed once before it counts, and deleted if it does not match, so the
player is only ever given bytes whose hash was checked. Least recently used files are evicted
to stay under ``max_bytes``, but never one the current playlist still needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from agent.backoff import Backoff
from agent.fetch_deadline import (
    RECONNECT_HORIZON_S,
    RECONNECT_SPREAD_S,
    Need,
    lead_s,
    retry_window,
    seconds_to_need,
)
from agent.stepping import Runner, Stepper
from protocol.clock import Clock

if TYPE_CHECKING:
    import httpx  # imported on the first download (see MediaCache.http)

log = logging.getLogger(__name__)

CHUNK = 64 * 1024


class Cacheable(Protocol):
    """A content-addressed file served at ``/media/{filename}``: audio (``MediaRef``) or a
    slide image (``ImageRef``); ``size`` 0 means unknown."""

    @property
    def sha256(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def filename(self) -> str: ...


class MediaError(Exception):
    """A media file could not be fetched or did not match its hash."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class MediaCache:
    """Files on disk plus the download logic; safe to use from several threads."""

    def __init__(
        self,
        directory: Path,
        base_url: str,
        max_bytes: int,
        client: httpx.Client | None = None,
        verify: ssl.SSLContext | bool = True,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.base_url = base_url.rstrip("/")
        self.max_bytes = max_bytes
        if client is not None and auth is not None:
            client.auth = auth
        self._client = client
        self._verify = verify
        # the node's own (broker) credentials, on every request of the client (downloads and
        # progressive streams): the controller serves media to nodes only with them
        self._auth = auth
        self._lock = threading.Lock()
        self._verified: set[str] = set()

    def http(self) -> httpx.Client:
        """The HTTP client, made on the first download: a node that has its media (most of
        its life) does not carry an HTTP stack, several MB of a Pi's memory."""
        import httpx

        with self._lock:
            if self._client is None:
                timeout = httpx.Timeout(30.0, connect=10.0)
                self._client = httpx.Client(timeout=timeout, verify=self._verify, auth=self._auth)
            return self._client

    def path_for(self, media: Cacheable) -> Path:
        return self.dir / media.filename

    def url_for(self, media: Cacheable) -> str:
        return f"{self.base_url}/media/{media.filename}"

    def has(self, media: Cacheable) -> bool:
        """True only if the cache holds bytes whose SHA-256 is ``media.sha256``."""
        path = self.path_for(media)
        if not path.is_file():
            with self._lock:
                self._verified.discard(media.filename)
            return False
        with self._lock:
            if media.filename in self._verified:
                return True
        return self._adopt(media, path)

    def verified_path(self, media: Cacheable) -> Path | None:
        """The file to play, if its bytes are verified; None otherwise."""
        return self.path_for(media) if self.has(media) else None

    def _adopt(self, media: Cacheable, path: Path) -> bool:
        """Hash a file found on disk (once); delete it if it is not what its name says."""
        try:
            actual = sha256_of(path)
        except OSError:
            return False
        if actual != media.sha256:
            log.warning("cached %s does not match its hash: deleted", media.filename)
            path.unlink(missing_ok=True)
            return False
        with self._lock:
            self._verified.add(media.filename)
        return True

    def touch(self, media: Cacheable) -> None:
        """Mark as recently used (the file's mtime is the LRU clock)."""
        with contextlib.suppress(OSError):
            os.utime(self.path_for(media))

    def fetch(self, media: Cacheable) -> Path:
        """Download (resuming a partial file), verify the hash, move into place."""
        final = self.path_for(media)
        if self.has(media):
            return final
        import httpx

        part = final.with_name(final.name + ".part")
        url = self.url_for(media)
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with self.http().stream("GET", url, headers=headers) as resp:
                if resp.status_code == 416:
                    part.unlink(missing_ok=True)
                    raise MediaError(f"{media.filename}: range refused, restarting download")
                if resp.status_code not in (200, 206):
                    raise MediaError(f"{media.filename}: HTTP {resp.status_code}")
                mode = "ab" if resp.status_code == 206 else "wb"
                written = have if mode == "ab" else 0
                with open(part, mode) as fh:
                    for chunk in resp.iter_bytes(CHUNK):
                        written += len(chunk)
                        if media.size and written > media.size:
                            raise MediaError(f"{media.filename}: larger than {media.size} bytes")
                        fh.write(chunk)
                    fh.flush()
                    os.fsync(fh.fileno())
        except httpx.HTTPError as exc:
            raise MediaError(f"{media.filename}: {exc}") from None
        except MediaError:
            if part.exists() and media.size and part.stat().st_size > media.size:
                part.unlink(missing_ok=True)
            raise
        return self.install(media, part)

    def install(self, media: Cacheable, part: Path) -> Path:
        """Move a downloaded file into place if its SHA-256 is ``media.sha256``; else
        delete it and raise ``MediaError`` (same filesystem: ``part`` under the data dir)."""
        actual = sha256_of(part)
        if actual != media.sha256:
            part.unlink(missing_ok=True)
            raise MediaError(f"{media.filename}: hash mismatch (got {actual[:12]}…)")
        final = self.path_for(media)
        os.replace(part, final)
        with self._lock:
            self._verified.add(media.filename)
        return final

    def usage(self) -> tuple[int, int]:
        """(bytes, files) of complete media in the cache."""
        total = count = 0
        for entry in self._complete_files():
            total += entry.stat().st_size
            count += 1
        return total, count

    def _complete_files(self) -> list[Path]:
        return [p for p in self.dir.iterdir() if p.is_file() and not p.name.endswith(".part")]

    def evict(self, protected: Iterable[str]) -> list[str]:
        """Delete least recently used files until under ``max_bytes``; never ``protected`` names."""
        keep = set(protected)
        with self._lock:
            files = []
            for p in self._complete_files():
                st = p.stat()
                files.append((st.st_mtime, p.name, st.st_size, p))
            total = sum(f[2] for f in files)
            removed: list[str] = []
            for _mtime, name, size, path in sorted(files):
                if total <= self.max_bytes:
                    break
                if name in keep:
                    continue
                path.unlink(missing_ok=True)
                self._verified.discard(name)
                total -= size
                removed.append(name)
        if removed:
            log.info("cache evicted %d file(s)", len(removed))
        return removed


@dataclass
class _Retry:
    backoff: Backoff
    not_before: float = 0.0
    errors: list[str] = field(default_factory=list)


class CacheWorker:
    """Background downloader: fetches what the playlist needs, soonest first, retrying.

    A failed download waits per its own backoff, but never past the moment it must start to
    be ready for the earliest item that needs it (``agent.fetch_deadline``). When the
    controller is reachable again (``link_up``: the MQTT session reconnected, or another
    file just downloaded) pending retries of files needed soon start over, spread with jitter.
    """

    def __init__(
        self,
        cache: MediaCache,
        clock: Clock,
        retry_min_s: float,
        retry_max_s: float,
        on_fetched: Callable[[], None] | None = None,
        rand: Callable[[float, float], float] = random.uniform,
    ):
        """``on_fetched`` runs after each verified download (the playout may be waiting);
        ``rand`` draws the jitter (seeded in tests)."""
        self.cache = cache
        self.clock = clock
        self.on_fetched = on_fetched
        self._retry_min_s = retry_min_s
        self._retry_max_s = retry_max_s
        self._rand = rand
        self._wanted: list[Cacheable] = []
        self._needs: dict[str, list[Need]] = {}
        self._retries: dict[str, _Retry] = {}
        self._stop = threading.Event()
        self._link_up = threading.Event()
        self._lock = threading.Lock()
        self._runner = Runner("cache", self.run_once)

    def want(
        self, media: Iterable[Cacheable], needs: Mapping[str, Iterable[Need]] | None = None
    ) -> None:
        """Replace the wanted list (in play order) and wake the worker; ``needs`` says when
        each file is needed (a file without one is retried on the plain backoff)."""
        unique: dict[str, Cacheable] = {}
        for m in media:
            unique.setdefault(m.filename, m)
        with self._lock:
            self._wanted = list(unique.values())
            self._needs = {name: list(n) for name, n in (needs or {}).items()}
        self._runner.poke()

    def want_also(self, media: Iterable[Cacheable], need: Need | None = None) -> None:
        """Add to the wanted list (a command's files, needed at ``need``) until the next
        ``want``."""
        extra = list(media)
        if not extra:
            return
        with self._lock:
            known = {m.filename for m in self._wanted}
            for m in extra:
                if m.filename not in known:
                    known.add(m.filename)
                    self._wanted.append(m)
                if need is not None:
                    self._needs.setdefault(m.filename, []).append(need)
        self._runner.poke()

    def missing(self) -> list[Cacheable]:
        with self._lock:
            wanted = list(self._wanted)
        return [m for m in wanted if not self.cache.has(m)]

    def link_up(self) -> None:
        """The controller is reachable again (any thread): the worker brings needed retries
        forward on its next step, which runs now."""
        self._link_up.set()
        self._runner.poke()

    def _window(self, media: Cacheable) -> float | None:
        """How long a retry of ``media`` may wait (None: no item needs it at a known time)."""
        with self._lock:
            needs = list(self._needs.get(media.filename, ()))
        return retry_window(needs, media.size, self.clock.now())

    def _bring_forward(self) -> None:
        """Start the backoff over for files needed within the horizon, each retried at a
        random moment within ``RECONNECT_SPREAD_S`` (or its sooner deadline): soon, but not
        the whole fleet in the same second."""
        now = self.clock.monotonic()
        wanted = {m.filename: m for m in self.missing()}
        with self._lock:
            pending = [(n, r) for n, r in self._retries.items() if n in wanted]
            needs = {n: list(self._needs.get(n, ())) for n, _r in pending}
        for name, retry in pending:
            until = seconds_to_need(needs[name], self.clock.now())
            if until is None or until > RECONNECT_HORIZON_S:
                continue  # not needed soon: the long backoff spares the controller
            window = max(0.0, until - lead_s(wanted[name].size))
            retry.backoff.reset()
            spread = max(min(window, RECONNECT_SPREAD_S), retry.backoff.floor)
            retry.not_before = min(retry.not_before, now + self._rand(0.0, spread))

    def run_once(self) -> float:
        """Try every due download once; return seconds until the next retry is due."""
        missing = self.missing()
        with self._lock:
            names = {m.filename for m in missing}
            self._retries = {n: r for n, r in self._retries.items() if n in names}
        if self._link_up.is_set():
            self._link_up.clear()
            self._bring_forward()
        for media in missing:
            if self._stop.is_set():
                break
            now = self.clock.monotonic()
            retry = self._retries.get(media.filename)
            if retry is not None and now < retry.not_before:
                self._replan(retry, media, now)
                continue
            try:
                self.cache.fetch(media)
            except (MediaError, OSError) as exc:
                self._failed(media, now, exc)
            else:
                with self._lock:
                    self._retries.pop(media.filename, None)
                self._bring_forward()  # the controller answers: others may work now too
                if self.on_fetched is not None:
                    self.on_fetched()
        with self._lock:
            protected = [m.filename for m in self._wanted]
        self.cache.evict(protected)
        return self._next_due(names)

    def _failed(self, media: Cacheable, now: float, exc: Exception) -> None:
        with self._lock:
            retry = self._retries.setdefault(
                media.filename,
                _Retry(Backoff(self._retry_min_s, self._retry_max_s, self._rand)),
            )
        window = self._window(media)
        delay = retry.backoff.next_delay(window)
        retry.not_before = now + delay
        needed = "" if window is None else f" (must start within {window:.0f}s)"
        log.warning("media fetch failed, retry in %.1fs%s: %s", delay, needed, exc)

    def _replan(self, retry: _Retry, media: Cacheable, now: float) -> None:
        """A pending retry planned later than a (new, sooner) need allows is drawn again."""
        window = self._window(media)
        if window is not None and retry.not_before - now > max(window, retry.backoff.floor):
            retry.not_before = now + retry.backoff.draw(window)

    def _next_due(self, names: set[str]) -> float:
        now = self.clock.monotonic()
        with self._lock:
            due = [r.not_before - now for n, r in self._retries.items() if n in names]
        return max(0.0, min(due, default=3600.0))

    def start(self, stepper: Stepper | None = None) -> None:
        """Fetch in the background (own thread unless a shared ``stepper``)."""
        self._runner.start(stepper)

    def stop(self) -> None:
        self._stop.set()
        self._runner.stop()
