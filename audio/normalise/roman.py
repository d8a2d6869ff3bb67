"""Roman numerals as numbers, keeping the punctuation after them (a pause).

Only after a word that takes a number ("Chương II.", "khóa XV", "báo động III", "quý IV",
"lần thứ XIV") or as a heading at the start of a line ("II. Nội dung"), so a person's
initial ("ông V.") is never read as five. A following "/2025" is the year.
"""

from __future__ import annotations

import re

from audio.normalise import cues
from audio.normalise.context import ends_with, words_before
from audio.normalise.numbers import read_number
from audio.normalise.quantities import ordinal
from audio.normalise.rule import Rule

_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
_VALID = re.compile(r"^(C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")


def roman_value(numeral: str) -> int | None:
    if not numeral or not _VALID.match(numeral):
        return None
    total = 0
    for here, after in zip(numeral, [*numeral[1:], ""], strict=True):
        value = _VALUES[here]
        total += -value if after and _VALUES[after] > value else value
    return total


def _roman(m: re.Match[str]) -> str:
    value = roman_value(m["r"])
    if value is None:
        return m.group(0)
    before = words_before(m.string, m.start())
    heading = m.start() == 0 or m.string[m.start() - 1] == "\n"
    if before and before[-1] == "thứ":
        words = ordinal(value)
    elif ends_with(before, cues.ROMAN_BEFORE) or (heading and m["punct"] in (".", ":")):
        words = read_number(value)
    else:
        return m.group(0)
    if m["year"]:
        words += f" năm {read_number(int(m['year']))}"
    return words + (m["punct"] or "")


RULES = [
    Rule(
        "roman numeral",
        re.compile(
            r"(?<![\w/.-])(?P<r>[IVXLC]{1,7})(?:/(?P<year>\d{4}))?(?P<punct>[.:;,!?])?(?![\w/])"
        ),
        _roman,
    ),
]
