"""What the e-board shows, derived from the playout: the item on the air and the next one.

Pure (``board_state``) plus a small feeder that refreshes the display once a second from the
agent's own playlist and cache, so the screen needs no network. An emergency item (priority
EMERGENCY) turns the whole screen red.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from agent.backends.display import BoardSlide, BoardState, DisplayServer
from agent.playout import Playout
from protocol.clock import Clock
from protocol.models import ImageRef, PlaylistItem, Priority


def board_state(
    playing: PlaylistItem | None,
    upcoming: PlaylistItem | None,
    cached: Callable[[ImageRef], bool] = lambda _image: True,
) -> BoardState:
    """The screen for ``playing`` (None: idle) with ``upcoming`` announced below it.

    Only slides for which ``cached`` answers True (verified bytes in the media cache) are
    shown: a slide still downloading, or refused for a wrong hash, never reaches the screen.
    """
    next_title = upcoming.title if upcoming is not None else ""
    next_text = (upcoming.visual.text or "") if upcoming and upcoming.visual else ""
    if playing is None:
        return BoardState(next_title=next_title, next_text=next_text)
    visual = playing.visual
    return BoardState(
        title=playing.title,
        text=(visual.text or "") if visual else "",
        next_title=next_title,
        next_text=next_text,
        slides=tuple(
            BoardSlide(s.image.filename, s.duration_s) for s in visual.slides if cached(s.image)
        )
        if visual
        else (),
        ticker=(visual.ticker or "") if visual else "",
        emergency=playing.priority >= Priority.EMERGENCY,
        item_id=playing.id,
    )


def next_item(items: list[PlaylistItem], now: datetime) -> PlaylistItem | None:
    return next((i for i in items if i.start > now), None)


class BoardFeeder:
    """Refresh ``display`` from ``playout`` every ``interval_s`` (``refresh`` runs one pass)."""

    def __init__(
        self,
        display: DisplayServer,
        playout: Playout,
        clock: Clock,
        cached: Callable[[ImageRef], bool] = lambda _image: True,
        interval_s: float = 1.0,
    ) -> None:
        """``cached``: whether the media cache holds a slide's verified bytes."""
        self.display = display
        self.cached = cached
        self.playout = playout
        self.clock = clock
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> None:
        now = self.clock.now()
        playing = self.playout.playing
        playlist = self.playout.playlist
        upcoming = next_item(playlist.items, now) if playlist is not None else None
        self.display.show(board_state(playing.item if playing else None, upcoming, self.cached))

    def start(self) -> None:
        self.display.start()
        self._thread = threading.Thread(target=self._run, name="board", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.display.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.refresh()
