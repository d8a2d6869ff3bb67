"""Amplifier power: a GPIO relay on the Pi (via gpiozero when installed) or nothing."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

log = logging.getLogger(__name__)


class Amplifier(ABC):
    is_on = False

    @abstractmethod
    def set(self, on: bool) -> None:
        """Switch the amplifier; idempotent."""


class NoopAmplifier(Amplifier):
    def set(self, on: bool) -> None:
        self.is_on = on


class GpioAmplifier(Amplifier):
    """Drives a relay on ``pin`` (BCM numbering)."""

    def __init__(self, pin: int) -> None:
        from gpiozero import OutputDevice  # type: ignore[import-not-found,import-untyped,unused-ignore]

        self._device: Any = OutputDevice(pin, active_high=True, initial_value=False)

    def set(self, on: bool) -> None:
        if on != self.is_on:
            if on:
                self._device.on()
            else:
                self._device.off()
            self.is_on = on
            log.info("amplifier %s", "on" if on else "off")
