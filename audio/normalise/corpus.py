"""The reading corpus: commune notices with the reading an announcer gives them.

The data lives in the source tree (``tests/data/reading_corpus.yaml`` and the held-out
``reading_holdout.yaml``), not in the package, so it never ships to a Raspberry Pi; the
benchmark and the tests find it next to the code. A case counts as read correctly when the
normalised text equals the expected reading after case folding and whitespace collapsing:
case does not change what is said, punctuation does (it is where the voice pauses).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parents[2] / "tests" / "data"
CORPORA = {
    "project": "reading_corpus.yaml",
    "holdout": "reading_holdout.yaml",
    "holdout2": "reading_holdout2.yaml",
}
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r" ([,.;:!?])")


@dataclass(frozen=True)
class Case:
    group: str
    text: str
    reading: str


@dataclass
class Score:
    cases: int = 0
    correct: int = 0
    times_ms: list[float] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return round(self.correct / self.cases, 4) if self.cases else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "cases": self.cases,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "ms_p50": round(statistics.median(self.times_ms), 3) if self.times_ms else None,
            "failures": self.failures,
        }


def corpus_path(name: str) -> Path:
    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; known: {', '.join(CORPORA)}")
    return DATA_DIR / CORPORA[name]


def parse_corpus(text: str) -> list[Case]:
    """``{group: [[written, read], ...]}`` -> cases; malformed rows raise ``ValueError``."""
    raw = yaml.safe_load(text) or {}
    if not isinstance(raw, dict):
        raise ValueError("a reading corpus is a mapping of group -> [[written, read], ...]")
    cases = []
    for group, rows in raw.items():
        for row in rows or []:
            if not (
                isinstance(row, list) and len(row) == 2 and all(isinstance(s, str) for s in row)
            ):
                raise ValueError(f"group {group!r}: bad row {row!r}")
            cases.append(Case(str(group), row[0], row[1]))
    return cases


def load_corpus(path: Path) -> list[Case]:
    return parse_corpus(path.read_text(encoding="utf-8"))


def canonical(text: str) -> str:
    """What is compared: lower case, one space between words, none before punctuation."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", text.casefold()).strip())


def score(normalise: Callable[[str], str], cases: list[Case]) -> Score:
    result = Score()
    for case in cases:
        start = time.perf_counter()
        got = normalise(case.text)
        result.times_ms.append((time.perf_counter() - start) * 1000)
        result.cases += 1
        if canonical(got) == canonical(case.reading):
            result.correct += 1
        else:
            result.failures.append(
                {"group": case.group, "text": case.text, "expected": case.reading, "got": got}
            )
    return result
