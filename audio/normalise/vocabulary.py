"""The project-owned commune dictionary (``vocabulary.yaml``), loaded and checked once.

A caller may pass extra entries (e.g. a province's own abbreviations) that override the
shipped ones; keys must be non-empty and readings must be words, never more abbreviations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files

import yaml


@dataclass(frozen=True)
class Vocabulary:
    abbreviations: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)

    def extended(
        self,
        abbreviations: Mapping[str, str] | None = None,
        units: Mapping[str, str] | None = None,
    ) -> Vocabulary:
        """A copy with more (or overriding) entries."""
        return Vocabulary(
            {**self.abbreviations, **(abbreviations or {})},
            {**self.units, **(units or {})},
        )


def _table(raw: object, section: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ValueError(f"vocabulary section {section!r} must be a mapping")
    table: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key.strip() or not isinstance(value, str):
            raise ValueError(f"vocabulary {section}: bad entry {key!r}: {value!r}")
        table[key] = value.strip()
    return table


def parse_vocabulary(text: str) -> Vocabulary:
    raw = yaml.safe_load(text) or {}
    if not isinstance(raw, dict):
        raise ValueError("vocabulary must be a YAML mapping")
    return Vocabulary(
        _table(raw.get("abbreviations", {}), "abbreviations"),
        _table(raw.get("units", {}), "units"),
    )


def load_default_vocabulary() -> Vocabulary:
    """The vocabulary shipped in this package."""
    text = files("audio.normalise").joinpath("vocabulary.yaml").read_text(encoding="utf-8")
    return parse_vocabulary(text)
