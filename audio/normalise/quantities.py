"""Ranges, ordinals, month/quarter with a year and two-digit decimals.

- ``6-36 tháng`` -> "6 đến 36 tháng" (numbers left for the later rules); after "tháng"
  the word is repeated: "tháng 9-10" -> "tháng 9 đến tháng 10".
- ``thứ 1`` / ``thứ 4`` -> "thứ nhất" / "thứ tư" (weekday and ordinal alike).
- ``tháng 4/2026`` -> "tháng tư năm ..."; ``quý IV/2025`` -> "quý bốn năm ...".
- ``1,65`` -> "một phẩy sáu mươi lăm" (two decimals read as a number unless they start
  with 0: "2,05" stays "hai phẩy không năm").
"""

from __future__ import annotations

import re

from audio.normalise.context import words_before
from audio.normalise.numbers import read_digit_string, read_month, read_number
from audio.normalise.rule import Rule

_QTY = r"\d+(?:[.,]\d+)*"
_ORDINALS = {1: "nhất", 4: "tư"}


def ordinal(n: int) -> str:
    return _ORDINALS.get(n, read_number(n))


def _range(m: re.Match[str]) -> str:
    before = words_before(m.string, m.start(), 1)
    if before == ["tháng"]:
        return f"{m['a']} đến tháng {m['b']}"
    if before and before[0] in ("ngày", "mùng", "mồng") and m["a"].isdigit() and m["b"].isdigit():
        day, month = int(m["a"]), int(m["b"])
        if month < day <= 31 and 1 <= month <= 12:  # "ngày 20-11": a date, days never run down
            return f"{m['a']} tháng {read_month(month)}"
    return f"{m['a']} đến {m['b']}"


def _month_range_year(m: re.Match[str]) -> str:
    first, second = int(m[2]), int(m[3])
    if not (1 <= first <= 12 and 1 <= second <= 12):
        return m.group(0)
    return f"{m[1]} {read_month(first)} đến tháng {read_month(second)} năm {read_number(int(m[4]))}"


def _ordinal(m: re.Match[str]) -> str:
    return f"{m[1]} {ordinal(int(m[2]))}"


def _month_year(m: re.Match[str]) -> str:
    month = int(m[2])
    if not 1 <= month <= 12:
        return m.group(0)
    return f"{m[1]} {read_month(month)} năm {read_number(int(m[3]))}"


def _decimal(m: re.Match[str]) -> str:
    return f"{read_digit_string(m['int'])} phẩy {read_number(int(m['dec']))}"


def _section(m: re.Match[str]) -> str:
    """A section number, not a decimal: "Mục 2.3" -> "Mục hai chấm ba"."""
    return f"{m[1]} " + " chấm ".join(read_number(int(p)) for p in m[2].split("."))


RULES_EARLY = [
    Rule(
        "section number",
        re.compile(
            r"\b([Mm]ục|[Đđ]iều|[Kk]hoản|[Pp]hần|[Cc]hương|[Tt]iểu mục)"
            r"\s+(\d{1,2}(?:\.\d{1,2})+)(?!\d|,\d)"
        ),
        _section,
    ),
    Rule(
        "month range/year",  # "tháng 10-11/2025"
        re.compile(r"\b([Tt]háng)\s+(\d{1,2})\s*[-–]\s*(\d{1,2})/(\d{4})\b"),
        _month_range_year,
    ),
    Rule("month/year", re.compile(r"\b([Tt]háng)\s+(\d{1,2})/(\d{4})\b"), _month_year),
]

RULES = [
    Rule(
        "range",
        re.compile(rf"(?<![\w/.,:-])(?P<a>{_QTY})\s*[-–]\s*(?P<b>{_QTY})(?![\w/-]|[.,]\d)"),
        _range,
    ),
    Rule("ordinal", re.compile(r"\b([Tt]hứ)\s+(\d{1,3})\b(?![.,]\d)"), _ordinal),
]


def _word_slash(m: re.Match[str]) -> str:
    """Alternatives, not "per" (no number before): "xã/phường" -> "xã, phường"."""
    return f"{m[1]}, {m[2]}"


RULES_LATE = [
    Rule(
        "ordinal range",
        re.compile(r"\b([Tt]hứ \w+)\s*[-–]\s*(thứ|Thứ|chủ nhật|Chủ nhật)\b"),
        lambda m: f"{m[1]} đến {m[2].lower()}",
    ),
    Rule("word/word", re.compile(r"(?<![\w/])([^\W\d_]{2,})/([^\W\d_]{2,})(?![\w/])"), _word_slash),
    Rule(
        "two-digit decimal",
        re.compile(r"(?<![\w.,])(?P<int>\d{1,3}(?:\.\d{3})*|\d+),(?P<dec>[1-9]\d)(?![\d.,]\d|\d)"),
        _decimal,
    ),
]


RULES_SIGNS = [
    Rule("per mille", re.compile(r"(\d)\s*‰"), lambda m: f"{m[1]} phần nghìn"),
    Rule(
        "dimensions",  # "5 m x 5 m", "3x4 m": "năm mét nhân năm mét"
        re.compile(r"(\d(?:\s?[A-Za-z²³]{1,3})?)\s*[x×]\s*(?=\d)"),
        lambda m: f"{m[1]} nhân ",
    ),
    Rule(
        "equals",  # "(1 sào = 360 m2)": "một sào bằng ba trăm sáu mươi mét vuông"
        re.compile(r"(?<=[\w)%²³])\s*=\s*(?=[\w(])"),
        lambda m: " bằng ",
    ),
    Rule(
        "combined vaccine",  # "6in1", "5 in 1": "sáu trong một"
        re.compile(r"(?<![\w.,])(\d)\s?in\s?(\d)(?!\w)", re.IGNORECASE),
        lambda m: f"{m[1]} trong {m[2]}",
    ),
    Rule(
        "plus sign",  # "+1,5 m so với báo động một" (a level above a mark)
        re.compile(r"(?<![\w+])\+\s?(?=\d)"),
        lambda m: "cộng ",
    ),
]
