from __future__ import annotations

import pytest

from audio.normalise.vocabulary import load_default_vocabulary, parse_vocabulary


def test_shipped_vocabulary_has_the_commune_terms() -> None:
    vocab = load_default_vocabulary()
    for key in ("UBND", "HĐND", "MTTQ", "HTX", "BHYT", "BHXH", "THCS", "SĐT", "KH", "QĐ"):
        assert vocab.abbreviations[key]
    assert vocab.units["ha"] == "héc ta"


@pytest.mark.parametrize(
    "text", ["- a list", "abbreviations: [1, 2]", "abbreviations:\n  UBND: 3\n"]
)
def test_malformed_vocabulary_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="vocabulary"):
        parse_vocabulary(text)
