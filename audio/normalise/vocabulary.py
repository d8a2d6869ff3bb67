"""The project-owned commune dictionary (``vocabulary.yaml``), loaded and checked once.

Sections: ``abbreviations`` (whole words, case-sensitive), ``units`` (after a number or a
slash), ``document_codes`` (the parts of "124/KH-UBND" where they differ from the
abbreviations, e.g. BTC is "bộ tài chính" in a code but "ban tổ chức" in a sentence),
``web_words`` (toneless words in web addresses) and ``lexicon`` (operators' own words:
place and people's names, new abbreviations; applied first, whole words, as written).
A caller may pass extra entries that override the shipped ones; keys must be non-empty
and readings must be words.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib.resources import files

import yaml

SECTIONS = ("abbreviations", "units", "document_codes", "web_words", "lexicon")


@dataclass(frozen=True)
class Vocabulary:
    abbreviations: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    document_codes: Mapping[str, str] = field(default_factory=dict)
    web_words: Mapping[str, str] = field(default_factory=dict)
    lexicon: Mapping[str, str] = field(default_factory=dict)

    def extended(
        self,
        abbreviations: Mapping[str, str] | None = None,
        units: Mapping[str, str] | None = None,
        *,
        lexicon: Mapping[str, str] | None = None,
    ) -> Vocabulary:
        """A copy with more (or overriding) entries."""
        return Vocabulary(
            {**self.abbreviations, **(abbreviations or {})},
            {**self.units, **(units or {})},
            self.document_codes,
            self.web_words,
            {**self.lexicon, **(lexicon or {})},
        )

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {f.name: dict(getattr(self, f.name)) for f in fields(self)}

    def digest(self) -> str:
        """Changes whenever any entry changes (part of the render cache key)."""
        blob = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


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
    unknown = set(raw) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown vocabulary sections: {', '.join(sorted(unknown))}")
    return Vocabulary(*(_table(raw.get(s, {}), s) for s in SECTIONS))


def load_default_vocabulary() -> Vocabulary:
    """The vocabulary shipped in this package."""
    text = files("audio.normalise").joinpath("vocabulary.yaml").read_text(encoding="utf-8")
    return parse_vocabulary(text)
