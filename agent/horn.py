"""Horn safety on the node: the volume cap, soft start and the amplifier duty limit.

Every level the agent applies goes through :class:`HornGuard`, so no controller (old, buggy
or compromised-but-signed) can drive a speaker above ``min(max_volume setting, the
playlist's volume_cap)``. When sound starts on an amplifier that was off, the level ramps
from ``soft_start_floor`` to its target over ``soft_start_s``. The last commanded volume is
kept in a durable file (:class:`VolumeMemory`), so after a reboot, restart or reconnect the
agent plays at that level, not at the mixer's or the player's default (often 100 %).

The duty limit counts how long the amplifier has been on without a break; past
``amp_max_on_s`` it is switched off for ``amp_cooldown_s``. Emergencies are exempt (they
play, and the limit is checked again when they end). All decisions read the injected clock.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from agent.backends.amplifier import Amplifier
from agent.backends.volume import Volume
from agent.durable_sqlite import open_durable

RAMP_STEP_S = 0.25  # how often the level moves during a soft start


@dataclass(frozen=True)
class HornConfig:
    max_volume: int = 100
    soft_start_s: float = 0.0
    soft_start_floor: int = 10
    amp_max_on_s: float | None = None
    amp_cooldown_s: float = 0.0


class VolumeMemory:
    """The last volume the controller commanded, on the SD card (survives power cuts)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = open_durable(
            path, "CREATE TABLE IF NOT EXISTS horn (key TEXT PRIMARY KEY, value INTEGER)"
        )

    def load(self) -> int | None:
        with self._lock:
            try:
                row = self._db.execute("SELECT value FROM horn WHERE key = 'volume'").fetchone()
            except sqlite3.Error:
                return None
        if row is None or not isinstance(row[0], int) or not 0 <= row[0] <= 100:
            return None  # a damaged file must not yield a level out of range
        return int(row[0])

    def save(self, volume: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO horn (key, value) VALUES ('volume', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (volume,),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


class HornGuard:
    """Owns the volume backend and the amplifier for the playout clock (one thread)."""

    def __init__(
        self,
        config: HornConfig,
        volume: Volume,
        amplifier: Amplifier,
        memory: VolumeMemory | None = None,
    ) -> None:
        self.config = config
        self.volume = volume
        self.amplifier = amplifier
        self.memory = memory
        self.playlist_cap: int | None = None
        self._target: int | None = None
        self._ramp_from: datetime | None = None  # a soft start is under way since then
        self._fresh_amp = True  # the amplifier came on and no sound has started since
        self._on_since: datetime | None = None
        self.cooling_until: datetime | None = None

    # -- volume --------------------------------------------------------------------------
    @property
    def cap(self) -> int:
        caps = [self.config.max_volume]
        if self.playlist_cap is not None:
            caps.append(self.playlist_cap)
        return min(caps)

    def capped(self, level: int | None) -> int:
        """``level`` under the cap; None (no level ever set) means "as loud as allowed"."""
        return self.cap if level is None else max(0, min(level, self.cap))

    def restored_volume(self) -> int | None:
        return self.memory.load() if self.memory is not None else None

    def remember(self, level: int) -> None:
        if self.memory is not None:
            self.memory.save(level)

    def set_playlist_cap(self, cap: int | None, now: datetime) -> None:
        self.playlist_cap = cap
        if self.volume.level is not None and self.volume.level > self.cap:
            self.volume.set(self.cap)  # a lowered cap applies to what plays now
        if self._target is not None:
            self._apply(now)

    def level_now(self, now: datetime) -> int:
        """The level to apply now for the current target (capped, ramped)."""
        target = self.capped(self._target)
        if self._ramp_from is None or self.config.soft_start_s <= 0:
            return target
        elapsed = (now - self._ramp_from).total_seconds()
        if elapsed >= self.config.soft_start_s:
            self._ramp_from = None
            return target
        floor = min(self.config.soft_start_floor, target)
        return floor + int((target - floor) * elapsed / self.config.soft_start_s)

    def start_sound(self, target: int | None, now: datetime) -> int | None:
        """Sound is about to start at ``target``: begin a soft start if the amplifier has
        just come on, apply and return the level the player should use."""
        self._target = target
        if self._fresh_amp and self.config.soft_start_s > 0:
            self._ramp_from = now
        self._fresh_amp = False
        return self._apply(now)

    def preview(self, target: int | None) -> int | None:
        """The level a start at ``target`` would begin with (for preloading a player)."""
        if self._fresh_amp and self.config.soft_start_s > 0:
            return min(self.config.soft_start_floor, self.capped(target))
        if target is None and self.cap >= 100:
            return None
        return self.capped(target)

    def change_target(self, target: int, now: datetime) -> int | None:
        """A volume command: the new target, under the cap, without cutting a ramp short."""
        self._target = target
        return self._apply(now)

    def _apply(self, now: datetime) -> int | None:
        """Set the backend; None (untouched) when no level was ever commanded, nothing caps
        it below 100 and no ramp runs: the mixer keeps the installer's setting."""
        if self._target is None and self.cap >= 100 and self._ramp_from is None:
            return None
        level = self.level_now(now)
        self.volume.set(level)
        return level

    def ramp_tick(self, now: datetime) -> float | None:
        """Move a soft start along; seconds until the next step, None when none runs."""
        if self._ramp_from is None:
            return None
        self._apply(now)
        return RAMP_STEP_S if self._ramp_from is not None else None

    # -- amplifier -----------------------------------------------------------------------
    def amp(self, on: bool, now: datetime, emergency: bool = False) -> bool:
        """Switch the amplifier (refused during a cool-down unless ``emergency``); returns
        whether it is on."""
        if on and not emergency and self.cooling(now):
            on = False
        if on and not self.amplifier.is_on:
            self._on_since = now
            self._fresh_amp = True
        if not on:
            self._on_since = None
            self._ramp_from = None
        self.amplifier.set(on)
        return on

    def cooling(self, now: datetime) -> bool:
        if self.cooling_until is not None and now >= self.cooling_until:
            self.cooling_until = None
        return self.cooling_until is not None

    def duty_exceeded(self, now: datetime) -> float | None:
        """If the amplifier has been on longer than allowed: switch it off, start the
        cool-down and return how long it was on; else None."""
        limit = self.config.amp_max_on_s
        if limit is None or self._on_since is None or not self.amplifier.is_on:
            return None
        on_for = (now - self._on_since).total_seconds()
        if on_for < limit:
            return None
        self.cooling_until = now + timedelta(seconds=self.config.amp_cooldown_s)
        self.amp(False, now)
        return on_for

    def next_deadline(self, now: datetime) -> datetime | None:
        """When the duty limit or the cool-down next needs a look."""
        times: list[datetime] = []
        if self.config.amp_max_on_s is not None and self._on_since is not None:
            times.append(self._on_since + timedelta(seconds=self.config.amp_max_on_s))
        if self.cooling_until is not None:
            times.append(self.cooling_until)
        if self._ramp_from is not None:
            times.append(now + timedelta(seconds=RAMP_STEP_S))
        future = [t for t in times if t > now]
        return min(future) if future else None
