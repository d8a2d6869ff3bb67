"""The reading corpus as tests: every commune notice in tests/data/reading_corpus.yaml must
be read exactly as written there (hand-written readings, grouped by class)."""

from __future__ import annotations

import pytest

from audio.normalise import TextNormaliser
from audio.normalise.corpus import canonical, corpus_path, load_corpus, parse_corpus

CASES = load_corpus(corpus_path("project"))


@pytest.fixture(scope="module")
def normaliser() -> TextNormaliser:
    return TextNormaliser()


def test_corpus_is_large_and_covers_every_class() -> None:
    assert len(CASES) >= 400
    groups = {c.group for c in CASES}
    for needed in ("range", "slash", "ordinal", "digits", "abbreviation", "unit", "web", "roman"):
        assert needed in groups
    assert len({c.text for c in CASES}) == len(CASES), "duplicate sentences"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}-{i:03d}" for i, c in enumerate(CASES)])
def test_reading(normaliser: TextNormaliser, case: object) -> None:
    got = normaliser.normalise(case.text)  # type: ignore[attr-defined]
    assert canonical(got) == canonical(case.reading), got  # type: ignore[attr-defined]


def test_comparison_ignores_case_and_spacing_but_not_punctuation() -> None:
    assert canonical("Ủy ban  nhân dân xã .") == canonical("ủy ban nhân dân xã.")
    assert canonical("bảy giờ, họp") != canonical("bảy giờ họp")


def test_malformed_corpus_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="bad row"):
        parse_corpus("range:\n  - [only one]\n")
