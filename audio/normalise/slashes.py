"""``a/b`` and ``a:b`` without a year: a date, a fraction, a score, a street or holiday
named after a date, a house number or "round the clock", decided by the words around it.

Order of the questions (first answer wins): a house number ("số nhà 12/5"); something
named after a date ("đường 3/2", "Quốc khánh 2/9"); "24/7"; the next word (a fraction is
"of" something, "1/3 diện tích"; a score counts things, "17/19 tiêu chí"); the previous
word (a date word, "sáng 12/5"; a quantifier, "khoảng 1/3"; "tỷ lệ"); else a date if it
can be one, else "a trên b".
"""

from __future__ import annotations

import re

import audio.normalise.cues as cues
from audio.normalise.context import (
    ends_with,
    raw_word_before,
    starts_with,
    words_after,
    words_before,
)
from audio.normalise.numbers import read_month, read_number
from audio.normalise.rule import Rule

_WEEKDAY_NAMES = cues.phrases("hai, ba, tư, năm, sáu, bảy, nhật")


def fraction(num: int, den: int) -> str:
    """A fraction: "một phần hai", "ba phần tư" (a quarter is "tư")."""
    return f"{read_number(num)} phần {'tư' if den == 4 else read_number(den)}"


def day_month(day: int, month: int) -> str:
    return f"{read_number(day)} tháng {read_month(month)}"


def _is_date(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def _named_after_date(text: str, pos: int, before: list[str]) -> bool:
    if ends_with(before, cues.NAMED_DATE_BEFORE):
        return True
    word = raw_word_before(text, pos)  # "ngày Nhà giáo Việt Nam 20/11": a proper name
    return word[:1].isupper() and word.lower() not in _WEEKDAY_NAMES and not word.isupper()


_COORDINATED = re.compile(r"(?<![\w/])(\d{1,3})/(\d{1,3})\s*(?:,|và|hoặc|-|–)\s*$")


def read_slash(text: str, start: int, end: int, a: int, b: int) -> str:
    """The reading of ``a/b`` at ``text[start:end]``; a second date joined by "và" or a
    comma ("lễ 30/4 và 1/5") is read like the first."""
    head_start = max(0, start - 24)
    joined = _COORDINATED.search(text[head_start:start])
    if joined and _is_date(a, b):
        first = read_slash(
            text,
            head_start + joined.start(),
            head_start + joined.end(2),
            int(joined[1]),
            int(joined[2]),
        )
        if " tháng " in first:
            dated = first.startswith("ngày") or ends_with(
                words_before(text, head_start + joined.start()), cues.DAY_WORDS
            )
            return f"ngày {day_month(a, b)}" if dated else day_month(a, b)
    before = words_before(text, start)
    after = words_after(text, end)
    is_date = _is_date(a, b)
    listed = before
    while listed and listed[-1].isdigit():  # "ngày 10, 11/12": a list of days
        listed = listed[:-1]
    if listed is not before and is_date and ends_with(listed, cues.DAY_WORDS):
        return day_month(a, b)
    if is_date and before and before[-1] in cues.DAY_WORDS:  # "ngày 2/9 tổ chức": said
        return day_month(a, b)  # outright, whatever counted noun follows
    date_word = ends_with(before, cues.DATE_BEFORE)
    if ends_with(before, cues.ADDRESS_BEFORE):
        return f"{read_number(a)} trên {read_number(b)}"
    if is_date and not date_word and _named_after_date(text, start, before):
        return day_month(a, b)
    if (a, b) == (24, 7) and not date_word:
        return "hai mươi bốn trên bảy"
    if starts_with(after, cues.FRACTION_AFTER) and a < b:
        return fraction(a, b)
    if starts_with(after, cues.COUNT_AFTER) and a <= b:
        return f"{read_number(a)} trên {read_number(b)}"
    if is_date and date_word:
        return day_month(a, b) if before[-1] in cues.DAY_WORDS else f"ngày {day_month(a, b)}"
    if ends_with(before, cues.FRACTION_BEFORE) and a < b:
        return fraction(a, b)
    if is_date and not ends_with(before, cues.RATIO_BEFORE):
        return f"ngày {day_month(a, b)}"
    return f"{read_number(a)} trên {read_number(b)}"


def _slash(m: re.Match[str]) -> str:
    return read_slash(m.string, m.start(), m.end(), int(m["a"]), int(m["b"]))


def _ratio(m: re.Match[str]) -> str:
    before = words_before(m.string, m.start())
    a, b = m["a"], m["b"]
    clock = len(b) == 2 and int(a) <= 24 and int(b) < 60
    if ends_with(before, cues.RATIO_BEFORE) or not clock:
        return f"{read_number(int(a))} trên {read_number(int(b))}"
    return m.group(0)


X_OF_Y = Rule(
    "x/y",
    re.compile(r"(?<![\w/.,:-])(?P<a>\d{1,3})/(?P<b>\d{1,3})(?![\w/]|[.,]\d)"),
    _slash,
)
"""Runs after the date-range and month/year rules (they own "15-16/12", "tháng 4/2026")."""

RATIO = Rule(
    "ratio", re.compile(r"(?<![\w/.,:])(?P<a>\d{1,3}):(?P<b>\d{1,5})(?![\w:]|[.,]\d)"), _ratio
)
"""Runs before the clock-time rule, which would read "1:10" as ten past one."""
