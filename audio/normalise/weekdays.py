"""Weekday shorthand in schedules: ``T2``..``T7`` and ``CN``.

"Họp sáng T2", "trực T7 và CN", "từ T2 đến T6": the letter is "thứ", the digit the day
("thứ hai" .. "thứ bảy"), and "CN" is "chủ nhật". The same letters mean other things
elsewhere ("tổ T2", "ngành CN"), so a token is a weekday only when its clause says so: a
time-of-day or schedule word right before it, or another weekday token next to it.
"""

from __future__ import annotations

import re

import audio.normalise.cues as cues
from audio.normalise.context import ends_with, words_before
from audio.normalise.rule import Rule

_DAYS = {"2": "thứ hai", "3": "thứ ba", "4": "thứ tư", "5": "thứ năm", "6": "thứ sáu",
         "7": "thứ bảy", "CN": "chủ nhật"}  # fmt: skip
_WEEKDAY = r"(?<![\w/])(?:T([2-7])|CN)(?![\w/])"
_JOIN = r"\s*(?:,|và|hoặc|đến|tới|-|–)\s*"
_AFTER = re.compile(rf"{_JOIN}{_WEEKDAY}")
_BEFORE = re.compile(rf"{_WEEKDAY}{_JOIN}$")
_DATE_AFTER = re.compile(r"\s*,?\s*(?:ngày\s+)?\d{1,2}/\d{1,2}(?!\d)")
SCHEDULE_BEFORE = cues.phrases(
    "sáng, trưa, chiều, tối, đêm, vào, từ, đến, tới, các, mỗi, hằng, hàng, ngày, lịch, "
    "trực, họp, hôm"
)


def _is_weekday(text: str, start: int, end: int) -> bool:
    if ends_with(words_before(text, start, 1), SCHEDULE_BEFORE):
        return True
    after = _AFTER.match(text, end, min(len(text), end + 12))
    before = _BEFORE.search(text[max(0, start - 12) : start])
    dated = _DATE_AFTER.match(text, end, min(len(text), end + 16))  # "(T2, 9/3)"
    return bool(after or before or dated)


def _weekday(m: re.Match[str]) -> str:
    if not _is_weekday(m.string, m.start(), m.end()):
        return m.group(0)
    return _DAYS[m[1] or "CN"]


RULES = [Rule("weekday shorthand", re.compile(_WEEKDAY), _weekday)]
