"""What the jobs need from a running controller: defined here, so ``jobs/`` never imports
the container that builds it (``create_app``'s lifespan hands the controller in)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from audio.pipeline import SpeechRenderer
from controller.bridge.playlist_publisher import PlaylistPublisher
from controller.config import ControllerSettings
from protocol.clock import Clock


class JobContext(Protocol):
    @property
    def settings(self) -> ControllerSettings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def publisher(self) -> PlaylistPublisher: ...

    @property
    def renderer(self) -> SpeechRenderer: ...

    @property
    def scheduler_listeners(self) -> list[Callable[[Any], None]]:
        """Called with every job's APScheduler execution event (metrics)."""
        ...
