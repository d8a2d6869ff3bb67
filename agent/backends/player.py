"""The player interface and the players that need no sound hardware (``null``, ``tap``).

The playout clock decides when an item starts and ends; a player only starts playing and
stops when told. ``poll()`` lets the clock notice a player that died early.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class PlayRequest:
    """One thing to play: a file path or stream URL, from ``offset_s``, for ``duration_s``."""

    item_id: str
    kind: str
    source: str
    offset_s: float
    duration_s: float
    volume: int | None = None


class UnverifiedSource(OSError):
    """A non-stream item was handed something other than a local file (e.g. a URL)."""


def require_local_file(request: PlayRequest) -> None:
    """Only ``stream`` items (live relays) may be played from a URL; every other item must be
    a local file, i.e. a cached file whose hash the agent verified, or the agent's own pipe
    fed only with chunks checked against signed hashes. Raises ``UnverifiedSource``.
    """
    if request.kind == "stream":
        return
    path = Path(request.source)
    # a named pipe carries a stream the agent verifies chunk by chunk (agent.progressive)
    if "://" in request.source or not (path.is_file() or path.is_fifo()):
        raise UnverifiedSource(f"{request.kind} item {request.item_id}: not a local file")


class Playback(ABC):
    """A running playback."""

    @abstractmethod
    def poll(self) -> int | None:
        """None while playing; an exit status once it ended by itself (0 = fine)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop now; idempotent."""


class Player(ABC):
    name = "player"

    @abstractmethod
    def play(self, request: PlayRequest) -> Playback:
        """Start playing at once (must return quickly: the start time is measured here)."""

    def prepare(self, request: PlayRequest) -> None:
        """Get ready to ``play(request)`` soon (a persistent player preloads it); optional."""
        return None

    def warm_up(self) -> None:
        """Start what the player keeps between items, without blocking; optional."""
        return None

    def close(self) -> None:
        """Release what the player keeps between items (a persistent process); optional."""
        return None


class SilentPlayback(Playback):
    """Plays nothing until stopped: the playout clock ends it at the item's end."""

    def __init__(self) -> None:
        self._stopped = False

    def poll(self) -> int | None:
        return None

    def stop(self) -> None:
        self._stopped = True


class NullPlayer(Player):
    """Silent, real timing: a node with no speaker connected (yet) still keeps and reports
    its schedule."""

    name = "null"

    def play(self, request: PlayRequest) -> Playback:
        return SilentPlayback()


class TapPlayer(Player):
    """Silent, but appends one JSON line per start so tests can check timing on the wall clock.

    Line: ``{"item_id", "started_at", "media", "kind", "offset_s", "volume"}``, ``started_at`` in
    UTC, ``volume`` the level the item starts at (null: the mixer's).
    """

    name = "tap"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def play(self, request: PlayRequest) -> Playback:
        require_local_file(request)
        started_at = datetime.now(UTC)
        line = {
            "item_id": request.item_id,
            "started_at": started_at.isoformat(),
            "media": request.source,
            "kind": request.kind,
            "offset_s": round(request.offset_s, 3),
            "volume": request.volume,
        }
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        return SilentPlayback()
