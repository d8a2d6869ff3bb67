"""Adapter over g2p-hamster's rule-based text normaliser (``t0``): numbers, money, dates,
percentages and general abbreviations read the Vietnamese way.

Only its text stage is used (no phonemes): our engines take text. If the package is missing
(e.g. a slim install), a small built-in reader keeps numbers speakable.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Protocol

from audio.normalise.numbers import read_digit_string

log = logging.getLogger(__name__)


class Verbaliser(Protocol):
    name: str

    def verbalise(self, text: str) -> str: ...


class HamsterVerbaliser:
    name = "g2p-hamster"

    def __init__(self) -> None:
        from g2p_hamster.t0.pipeline import normalize

        self._normalize: Callable[[str], dict[str, object]] = normalize
        self._fallback = BasicVerbaliser()

    def verbalise(self, text: str) -> str:
        """Line by line, so paragraph breaks (pauses) survive."""
        return "\n".join(self._line(line) for line in text.split("\n"))

    def _line(self, line: str) -> str:
        if not line.strip():
            return ""
        try:
            read = self._normalize(line)["read_string"]
        except Exception as exc:  # third-party rules: never let one odd line fail a notice
            log.warning("g2p-hamster failed on a line (%s); using the basic reader", exc)
            return self._fallback.verbalise(line)
        return read if isinstance(read, str) else self._fallback.verbalise(line)


_DECIMAL = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?(?![\d])")


class BasicVerbaliser:
    """Numbers ("1.500.000", "12,5") and "%" only: enough for a notice to stay intelligible."""

    name = "basic"

    def verbalise(self, text: str) -> str:
        def number(m: re.Match[str]) -> str:
            words = read_digit_string(m[1])
            if m[2]:
                words += " phẩy " + read_digit_string(m[2])
            return words

        return _DECIMAL.sub(number, text).replace("%", " phần trăm")


def default_verbaliser() -> Verbaliser:
    try:
        return HamsterVerbaliser()
    except ImportError:
        log.warning("g2p-hamster is not installed; numbers are read by the basic reader")
        return BasicVerbaliser()
