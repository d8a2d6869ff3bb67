"""The vocabulary as one YAML file: the shipped commune vocabulary and the operators'
pronunciation dictionary, for ``loa vocabulary export|import`` (backup, moving entries
between controllers, reviewing them in a text editor).

```yaml
vocabulary:          # audio/normalise/vocabulary.yaml as this controller uses it
  abbreviations: {UBND: ủy ban nhân dân, ...}
  units: {...}
pronunciations:      # per province/commune zone id: written -> spoken
  xa-dong-tien:
    Nà Pồng: Na Pông
```

On import the ``pronunciations`` are added or updated (every entry checked first, nothing
written if one is bad). The shipped vocabulary changes only with the code; entries of an
imported ``vocabulary`` section that differ from it are returned, and the caller may store
them as pronunciations of a zone.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from sqlalchemy.orm import Session

from audio.normalise.vocabulary import Vocabulary, parse_vocabulary
from controller.services.pronunciation import PronunciationError, all_entries


@dataclass(frozen=True)
class VocabularyFile:
    vocabulary: Vocabulary | None
    pronunciations: list[tuple[str, str, str]]  # (zone id, written, spoken)

    def vocabulary_changes(self, shipped: Vocabulary) -> dict[str, str]:
        """Abbreviations of the file that the shipped vocabulary lacks or reads otherwise."""
        if self.vocabulary is None:
            return {}
        return {
            k: v
            for k, v in self.vocabulary.abbreviations.items()
            if shipped.abbreviations.get(k) != v
        }


def dump_vocabulary(session: Session, shipped: Vocabulary) -> str:
    by_zone: dict[str, dict[str, str]] = {}
    for row in all_entries(session):
        by_zone.setdefault(row.scope_zone_id, {})[row.written] = row.spoken
    doc = {
        "vocabulary": {k: v for k, v in shipped.as_dict().items() if k != "lexicon"},
        "pronunciations": by_zone,
    }
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def parse_vocabulary_file(text: str) -> VocabularyFile:
    """Raises ``PronunciationError`` with a reason for anything malformed."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise PronunciationError(f"not YAML: {exc}") from None
    if not isinstance(raw, dict) or set(raw) - {"vocabulary", "pronunciations"}:
        raise PronunciationError("the file must be a mapping of 'vocabulary' and 'pronunciations'")
    vocabulary = None
    if raw.get("vocabulary") is not None:
        try:
            vocabulary = parse_vocabulary(yaml.safe_dump(raw["vocabulary"], allow_unicode=True))
        except ValueError as exc:
            raise PronunciationError(str(exc)) from None
    rows: list[tuple[str, str, str]] = []
    zones = raw.get("pronunciations") or {}
    if not isinstance(zones, dict):
        raise PronunciationError("'pronunciations' must map zone ids to entries")
    for zone_id, entries in zones.items():
        if not isinstance(entries, dict):
            raise PronunciationError(f"pronunciations of {zone_id!r} must be written: spoken")
        for written, spoken in entries.items():
            if not isinstance(written, str) or not isinstance(spoken, str):
                raise PronunciationError(f"{zone_id}: bad entry {written!r}: {spoken!r}")
            rows.append((str(zone_id), written, spoken))
    return VocabularyFile(vocabulary, rows)
