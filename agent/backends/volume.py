"""Output volume: ALSA mixer through ``amixer`` or a no-op that just remembers the level."""

from __future__ import annotations

import logging
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable

log = logging.getLogger(__name__)


class Volume(ABC):
    level: int | None = None

    @abstractmethod
    def set(self, percent: int) -> None:
        """Set the level (0-100); idempotent."""


class NoopVolume(Volume):
    def set(self, percent: int) -> None:
        self.level = percent


class PlayerVolume(Volume):
    """The player's own gain (the persistent mpv's ``volume``): where no mixer is set."""

    def __init__(self, apply: Callable[[int], bool]) -> None:
        self._apply = apply

    def set(self, percent: int) -> None:
        if percent == self.level:
            return  # no IPC round trip between the scheduled instant and the unpause
        self._apply(percent)
        self.level = percent


class AmixerVolume(Volume):
    def __init__(self, control: str) -> None:
        binary = shutil.which("amixer")
        if binary is None:
            raise RuntimeError("amixer is not installed (apt-get install alsa-utils)")
        self._binary = binary
        self._control = control

    def set(self, percent: int) -> None:
        if percent == self.level:
            return
        result = subprocess.run(
            [self._binary, "-q", "sset", self._control, f"{percent}%"],
            capture_output=True,
            timeout=5,
            check=False,
        )
        if result.returncode != 0:
            log.warning("amixer failed: %s", result.stderr.decode(errors="replace").strip())
            return
        self.level = percent
