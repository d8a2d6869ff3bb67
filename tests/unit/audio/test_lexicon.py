"""Operators' pronunciation entries in the normaliser: checked, applied first and whole
words only, and digested so the render cache changes exactly when an applied entry does."""

from __future__ import annotations

import pytest

from audio.normalise import TextNormaliser, lexicon
from audio.normalise.vocabulary import load_default_vocabulary, parse_vocabulary


@pytest.fixture(scope="module")
def base() -> TextNormaliser:
    return TextNormaliser()


def _with(base: TextNormaliser, entries: dict[str, str]) -> TextNormaliser:
    return TextNormaliser(base.vocabulary.extended(lexicon=entries), base.verbaliser)


@pytest.mark.parametrize(
    ("written", "spoken", "reason"),
    [
        ("", "a", "written form"),
        ("Nà\nPồng", "a", "one line"),
        ("Nà ", "a", "start or end"),
        ("Nà Pồng", "", "spoken form"),
        ("Nà Pồng", "bản 5", "words only"),
        ("Nà Pồng", "a/b", "words only"),
    ],
)
def test_bad_entries_are_refused(written: str, spoken: str, reason: str) -> None:
    found = lexicon.check_entry(written, spoken)
    assert found is not None and reason in found


def test_good_entries_pass() -> None:
    assert lexicon.check_entry("H'Mông", "Hơ Mông") is None
    assert lexicon.check_entry("Pác Nặm", "Pắc Nặm, Bắc Kạn") is None


def test_entries_apply_first_as_whole_words(base: TextNormaliser) -> None:
    local = _with(base, {"Nà Pồng": "Na Pông", "H'Mông": "Hơ Mông", "UBND": "ủy ban"})
    assert local.normalise("Bản Nà Pồng có 12 hộ H'Mông.") == "Bản Na Pông có mười hai hộ Hơ Mông."
    assert local.normalise("Nà Pồngxyz") == base.normalise("Nà Pồngxyz")
    assert local.normalise("UBND xã") == "ủy ban xã"  # an operator's word beats the shipped one
    assert base.normalise("UBND xã") == "ủy ban nhân dân xã"


def test_applied_and_digest_follow_only_the_entries_a_text_uses() -> None:
    entries = {"Nà Pồng": "Na Pông", "GTNT": "giao thông nông thôn"}
    assert lexicon.applied("Họp ở Nà Pồng.", entries) == {"Nà Pồng": "Na Pông"}
    assert lexicon.applied("Họp thôn.", entries) == {}
    assert lexicon.digest({}) is None
    one = lexicon.digest({"Nà Pồng": "Na Pông"})
    assert one is not None and one != lexicon.digest({"Nà Pồng": "Na Pong"})


def test_vocabulary_sections_are_checked() -> None:
    shipped = load_default_vocabulary()
    assert shipped.document_codes["BTC"] == "bộ tài chính"
    assert shipped.abbreviations["BTC"] == "ban tổ chức"
    assert shipped.web_words["dichvucong"] == "dịch vụ công"
    with pytest.raises(ValueError, match="unknown vocabulary sections"):
        parse_vocabulary("abbrevations:\n  X: ích\n")
    assert shipped.digest() != shipped.extended(lexicon={"A": "a"}).digest()
