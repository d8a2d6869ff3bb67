"""Numbers that are dialled or copied, not counted: read digit by digit.

- vehicle plates: ``29A-123.45`` -> "hai chín A, một hai ba bốn năm";
- toll-free and premium lines ``1800 1091`` / ``19009095`` (always dialled);
- short numbers after a calling word: "gọi 113", "tổng đài 1022", "nhắn tin gửi 8168";
- codes after "mã", "tài khoản", "CCCD"...: "mã hồ sơ 250312";
- any run of five or more digits that starts with 0 (no quantity does).
"""

from __future__ import annotations

import re

import audio.normalise.cues as cues
from audio.normalise.context import SENTENCE_END, mentions, words_after, words_before
from audio.normalise.numbers import read_digits, read_number
from audio.normalise.rule import Rule

_NOT_A_COUNT_AFTER = cues.COUNT_AFTER | cues.phrases(
    "%, đồng, đ, lần, năm, tháng, ngày, máy, cuộc, giường, cán bộ, nghìn, triệu, tỷ, lượt, ca, "
    "con, chiếc, cái, tấn, kg, ha"
)
_COUNT_BEFORE = cues.phrases("có, gồm, được, khoảng, hơn, gần, trên, dưới, tổng, với")


def _series(series: str) -> str:
    """A plate series: "B1" -> "B một"."""
    letters = "".join(c for c in series if not c.isdigit())
    digits = "".join(c for c in series if c.isdigit())
    return f"{letters} {read_digits(digits)}" if digits else letters


def _plate(m: re.Match[str]) -> str:
    number = read_digits(m["num"])
    return f"{read_digits(m['prov'])} {_series(m['series'])}, {number}"


def _toll_free(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    groups = (
        re.split(r"[ .]", m.group(0))
        if re.search(r"[ .]", m.group(0))
        else [
            digits[:4],
            digits[4:],
        ]
    )
    return ", ".join(read_digits(g) for g in groups if g)


def _dialled(m: re.Match[str]) -> str:
    before = words_before(m.string, m.start(), 12)  # "đường dây nóng bảo vệ trẻ em 111"
    numbers = [i for i, w in enumerate(before) if any(c.isdigit() for c in w)]
    if numbers and not re.fullmatch(r"1\d{2,4}", before[numbers[-1]]):
        before = before[numbers[-1] + 1 :]  # a cue before another quantity is not ours
    if before and before[-1] in _COUNT_BEFORE:  # "tổng đài của xã có 120 máy"
        return m.group(0)
    after = words_after(m.string, m.end(), 1)
    if after and (after[0] in _NOT_A_COUNT_AFTER or " ".join(after[:2]) in _NOT_A_COUNT_AFTER):
        return m.group(0)
    if mentions(before, cues.CALL_BEFORE):
        return read_digits(m.group(0))
    if re.fullmatch(r"11[1-9]", m.group(0)) and mentions(before[-2:], cues.SERVICE_BEFORE):
        nothing_counted = m.string[m.end() :].lstrip()[:1] in ("", *".,;:!?-–()")
        if nothing_counted or (after and after[0] in cues.AFTER_A_LINE):
            return read_digits(m.group(0))
    return m.group(0)


def _code(m: re.Match[str]) -> str:
    digits = m.group(0)
    if digits.startswith("0") and len(digits) >= 5 and len(digits) not in (10, 11):
        return read_digits(digits)
    if mentions(words_before(m.string, m.start(), 6, SENTENCE_END), cues.CODE_BEFORE):
        return read_digits(digits)
    return digits


ROADS = {"QL": "quốc lộ", "ĐT": "đường tỉnh", "TL": "tỉnh lộ", "ĐH": "đường huyện"}


def _road(m: re.Match[str]) -> str:
    """ "QL1A" -> "quốc lộ 1A" (the number is left for the number reader)."""
    return f"{ROADS[m['kind']]} {m['num']}"


def _chainage(m: re.Match[str]) -> str:
    """Road chainage "Km15+200" -> "ki lô mét mười lăm cộng hai trăm"; "cầu Km 5" ->
    "cầu ki lô mét năm" (a post, so "Km" comes before its number)."""
    words = f"ki lô mét {read_number(int(m[1]))}"
    plus = m[2] if m.re.groups >= 2 else None
    return f"{words} cộng {read_number(int(plus))}" if plus else words


RULES = [
    Rule(
        "road number",
        re.compile(r"(?<![\w-])(?P<kind>QL|ĐT|TL|ĐH)\.?\s?(?P<num>\d{1,3}[A-Z]?)(?![\w/])"),
        _road,
    ),
    Rule("chainage", re.compile(r"(?<!\w)[Kk][Mm]\s?(\d{1,4})\s?\+\s?(\d{1,3})(?!\d)"), _chainage),
    Rule(
        "kilometre post",  # "cầu Km 5": capital K, not after a number ("3 km 5 phút")
        re.compile(r"(?<!\d )(?<!\w)Km\s?(\d{1,4})(?![\d.,/+]|\s?\+)"),
        _chainage,
    ),
    Rule(
        "vehicle plate",
        re.compile(
            r"(?<![\w.])(?P<prov>\d{2})\s?-?\s?(?P<series>[A-Z]{1,2}\d?)\s?[-\s]\s?"
            r"(?P<num>\d{3}\.\d{2}|\d{4,5})(?![\w]|[.,]\d)"
        ),
        _plate,
    ),
    Rule(
        "toll-free line",
        re.compile(r"(?<![\w.,])1[89]00[ .]?\d{3,4}(?:[ .]?\d{3,4})?(?![\w]|[.,]\d)"),
        _toll_free,
    ),
    # up to 20 digits (an ID card has 12, an account up to 19); longer runs are not codes
    Rule("code", re.compile(r"(?<![\w.,/])\d{5,20}(?![\w]|[.,]\d)"), _code),
    Rule("dialled number", re.compile(r"(?<![\w.,/:-])\d{3,5}(?![\w/%]|[.,]\d)"), _dialled),
]
