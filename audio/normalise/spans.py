"""Ranges whose ends are not bare numbers: two full dates or two amounts of money.

"từ 25/1-10/2" is "từ ngày hai mươi lăm tháng một đến ngày mười tháng hai", and
"(14/10/1930 - 14/10/2025)" "ngày ... đến ngày ..."; "800.000đ – 1.000.000đ" is
"tám trăm nghìn đồng đến một triệu đồng". The bare-number range rule cannot see these
(a slash or a currency sign sits next to the dash), so without this the dash is either
read as a pause or the second date turns into a fraction.
"""

from __future__ import annotations

import re

import audio.normalise.cues as cues
from audio.normalise.context import ends_with, words_before
from audio.normalise.numbers import read_number
from audio.normalise.rule import Rule
from audio.normalise.slashes import day_month

_DATE = r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?"
_DASH = r"\s*[-–—]\s*"


def _date(day: str, month: str, year: str | None) -> str | None:
    d, mo = int(day), int(month)
    if not (1 <= d <= 31 and 1 <= mo <= 12):
        return None
    words = day_month(d, mo)
    return f"{words} năm {read_number(int(year))}" if year else words


def _date_span(m: re.Match[str]) -> str:
    first, second = _date(m[1], m[2], m[3]), _date(m[4], m[5], m[6])
    if first is None or second is None:
        return m.group(0)
    dated = ends_with(words_before(m.string, m.start()), cues.DAY_WORDS)
    return f"{first if dated else 'ngày ' + first} đến ngày {second}"


RULES = [
    Rule(
        "date to date",
        re.compile(rf"(?<![\w/.,]){_DATE}{_DASH}{_DATE}(?![\w/]|[.,]\d)"),
        _date_span,
    ),
    Rule(
        "money range",  # the dash between two amounts: "800.000đ – 1.000.000đ"
        re.compile(r"(\d)\s*(VNĐ|VND|đồng|đ)(?!\w)" + _DASH + r"(?=\d)"),
        lambda m: f"{m[1]}{m[2]} đến ",
    ),
]
