"""The project's own rewrite rules for commune notices, run before g2p-hamster.

Why first: hamster reads general Vietnamese well but, measured on commune text, it reads
"KH" as "khách hàng", spells "BHYT"/"HTX"/"SĐT" letter by letter, leaves "7h-11h" half
read, keeps a "/" in "15-16/12/2025" and says "tháng bốn". Each rule below turns one such
pattern into plain words, which hamster then passes through untouched. Context-dependent
readings (x/y, ranges, ordinals, Roman numerals, dialled numbers, per-unit chains, web
addresses) live in their own modules; this one fixes the order they run in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import audio.normalise.codes as codes
import audio.normalise.per_unit as per_unit
import audio.normalise.quantities as quantities
import audio.normalise.roman as roman
import audio.normalise.slashes as slashes
import audio.normalise.spans as spans
import audio.normalise.web as web
import audio.normalise.weekdays as weekdays
from audio.normalise.numbers import read_digit_string, read_digits, read_month, read_number
from audio.normalise.rule import Replace, Rule
from audio.normalise.vocabulary import Vocabulary

__all__ = ["Rule", "apply_rules", "build_rules"]

_CODE = r"[A-ZĐ][A-Za-zĐđ&]*\d*"
_NUM = r"\d+(?:,\d+)?"
_TIME = r"([01]?\d|2[0-4])\s*(?:h|g|:)\s*([0-5]\d)?(?:\s*(?:phút|p)\b)?"
_DAY_WORDS = ("ngày", "các ngày", "hai ngày", "từ ngày")


def _read_int(digits: str) -> str:
    return read_digit_string(digits)


def _time(hour: str, minute: str | None) -> str:
    words = f"{read_number(int(hour))} giờ"
    if minute and int(minute):
        words += f" {read_number(int(minute))}"
    return words


def _words_for_codes(parts: str, table: Mapping[str, str]) -> str:
    """Code parts as words: "KH-UBND" -> "kế hoạch ủy ban nhân dân", "QH14" -> "quốc hội
    khóa mười bốn"."""
    words = []
    for part in parts.split("-"):
        m = re.fullmatch(r"(\D+?)(\d*)", part)
        letters, digits = (m[1], m[2]) if m else (part, "")
        words.append(
            table.get(letters, letters) + (f" {read_number(int(digits))}" if digits else "")
        )
    return " ".join(words)


def _document_number(vocab: Vocabulary) -> Replace:
    """``124/KH-UBND`` -> "một trăm hai mươi bốn, kế hoạch ủy ban nhân dân";
    ``72/2015/NĐ-CP`` adds "năm hai nghìn không trăm mười lăm" after the number."""

    def replace(m: re.Match[str]) -> str:
        words = _read_int(m["num"])
        if m["year"]:
            words += f" năm {read_number(int(m['year']))}"
        table = {**vocab.abbreviations, **vocab.document_codes}
        return f"{words}, {_words_for_codes(m['codes'], table)}"

    return replace


def _party_document_number(vocab: Vocabulary) -> Replace:
    """``05-CT/TU`` -> "không năm, chỉ thị tỉnh ủy": a leading zero is said, as written."""

    def replace(m: re.Match[str]) -> str:
        num = m["num"]
        words = read_digits(num) if num.startswith("0") else read_number(int(num))
        table = {**vocab.abbreviations, **vocab.document_codes}
        return f"{words}, {_words_for_codes(m['kind'] + '-' + m['codes'], table)}"

    return replace


def _phone(m: re.Match[str]) -> str:
    """Phone numbers digit by digit, in the groups the writer used (else 4-3-3 / 3-4-4)."""
    groups = re.split(r"[ .]", m.group(0))
    if len(groups) == 1:
        digits = groups[0]
        cuts = (4, 7) if len(digits) == 10 else (3, 7)
        groups = [digits[: cuts[0]], digits[cuts[0] : cuts[1]], digits[cuts[1] :]]
    return ", ".join(read_digits(g) for g in groups)


def _international_phone(m: re.Match[str]) -> str:
    """``+84 912 345 678`` -> "cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám": the
    country code is dialled too, and the rest is a phone number without its leading 0."""
    groups = [g for g in re.split(r"[ .]", m["rest"]) if g]
    if len(groups) == 1:
        digits = groups[0]
        groups = [digits[:3], digits[3:6], digits[6:]]
    return "cộng " + ", ".join(read_digits(g) for g in ["84", *groups])


def _phone_shape_ok(m: re.Match[str]) -> bool:
    return len(re.sub(r"\D", "", m.group(0))) in (10, 11)


def _time_range(m: re.Match[str]) -> str:
    return f"{_time(m[1], m[2])} đến {_time(m[3], m[4])}"


def _single_time(m: re.Match[str]) -> str:
    return _time(m[1], m[2])


def _date_range(m: re.Match[str]) -> str:
    start, end, month = int(m["d1"]), int(m["d2"]), int(m["month"])
    if not (1 <= start <= 31 and 1 <= end <= 31 and 1 <= month <= 12):
        return m.group(0)
    words = f"{read_number(start)} đến {read_number(end)} tháng {read_month(month)}"
    if m["year"]:
        words += f" năm {read_number(int(m['year']))}"
    before = m.string[: m.start()].rstrip().lower()
    return words if before.endswith(_DAY_WORDS) else f"ngày {words}"


def _month(m: re.Match[str]) -> str:
    month = int(m[2])
    return f"{m[1]} {read_month(month)}" if 1 <= month <= 12 else m.group(0)


def _alternation(keys: Mapping[str, str]) -> str:
    return "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))


def build_rules(vocab: Vocabulary) -> list[Rule]:
    """Rules in the order they must run (document numbers before phones before times...)."""
    units = _alternation(vocab.units)
    abbreviations = _alternation(vocab.abbreviations)

    def phone(m: re.Match[str]) -> str:
        return _phone(m) if _phone_shape_ok(m) else m.group(0)

    def unit(m: re.Match[str]) -> str:
        return f"{m[1]} {vocab.units[m[2]]}"

    single = re.compile(rf"(?:{abbreviations})(?![\w&])") if abbreviations else None

    def abbreviation(m: re.Match[str]) -> str:
        """One key, or a hyphenated chain of keys ("DS-KHHGĐ") read as one phrase."""
        whole = m.group(0)
        if whole in vocab.abbreviations or single is None:
            return vocab.abbreviations.get(whole, whole)
        return " ".join(vocab.abbreviations[k.group(0)] for k in single.finditer(whole))

    # An operator's toneless word ("namdan" -> "nam đàn") also names an address label, and
    # addresses are read first so that the entry does not split "www.namdan.gov.vn".
    web_words = {
        **vocab.web_words,
        **{k.lower(): v for k, v in vocab.lexicon.items() if re.fullmatch(r"[A-Za-z0-9]+", k)},
    }
    rules = [*web.build(web_words), *_lexicon_rules(vocab.lexicon)]
    rules += [
        *weekdays.RULES,
        *spans.RULES,
        Rule(
            "phone word",  # "Số ĐT: 0912..." is a telephone, not "đội tuyển" or a road
            re.compile(r"(?<![\w.])ĐT(?=\s*:?\s*(?:\+84|0)\d)"),
            lambda m: "điện thoại",
        ),
        Rule(
            "party document number",  # "05-CT/TU", "35-KL/TW": number-kind/issuer
            re.compile(
                rf"(?<![\w/-])(?P<num>\d{{1,4}})-(?P<kind>{_CODE})/(?P<codes>{_CODE}(?:-{_CODE})*)"
                r"(?![\w/])"
            ),
            _party_document_number(vocab),
        ),
        Rule(
            "document number",
            re.compile(
                rf"(?<![\w/])(?P<num>\d{{1,5}})(?:/(?P<year>\d{{4}}))?/(?P<codes>{_CODE}(?:-{_CODE})*)"
            ),
            _document_number(vocab),
        ),
        Rule(
            "phone number",
            re.compile(r"(?<![\w.,/+])0\d{2,3}(?:[ .]?\d{3,4}){2}(?![\w]|[.,]\d)"),
            phone,
        ),
        Rule(
            "international phone number",
            re.compile(
                r"(?<![\w+])\+84[ .]?(?P<rest>[1-9]\d{1,2}(?:[ .]?\d{3,4}){2})(?![\w]|[.,]\d)"
            ),
            _international_phone,
        ),
        Rule(
            "phone number, free grouping",  # "0238 3 812 345": groups as the writer made them
            re.compile(r"(?<![\w.,/+])0\d{2,3}(?:[ .]\d{1,4}){2,4}(?![\w]|[.,]\d)"),
            phone,
        ),
        Rule(
            "fertiliser grade",  # "NPK 16-16-8": three numbers, not a code or a range
            re.compile(r"\b(NPK|N-P-K)\s+(\d{1,2})-(\d{1,2})-(\d{1,2})(?![\w-])"),
            lambda m: f"{m[1]} " + " ".join(read_number(int(m[i])) for i in (2, 3, 4)),
        ),
        *codes.RULES,
        Rule(
            "hour range",  # "7-9h": the unit is written once, after the second hour
            re.compile(r"(?<![\w/.,:])([01]?\d|2[0-4])\s*[-–]\s*([01]?\d|2[0-4])\s*h(?!\w)"),
            lambda m: f"{read_number(int(m[1]))} đến {read_number(int(m[2]))} giờ",
        ),
        Rule(
            "time range",
            re.compile(rf"(?<![\w/.,:]){_TIME}\s*[-–]\s*{_TIME}(?!\w)"),
            _time_range,
        ),
        Rule(
            "time",
            re.compile(r"(?<![\w/.,:])([01]?\d|2[0-4])(?:h|g)([0-5]\d)?(?!\w)"),
            _single_time,
        ),
        slashes.RATIO,
        Rule(
            "clock time",
            re.compile(r"(?<![\w/.,:])([01]?\d|2[0-3]):([0-5]\d)(?![\w:])"),
            _single_time,
        ),
        Rule(
            "date range",
            re.compile(
                r"(?<![\w/.,])(?P<d1>\d{1,2})\s*[-–]\s*(?P<d2>\d{1,2})/(?P<month>\d{1,2})"
                r"(?:/(?P<year>\d{4}))?(?![\w/])"
            ),
            _date_range,
        ),
        *quantities.RULES_EARLY,
        slashes.X_OF_Y,
        *roman.RULES,
        Rule(
            "percent range",
            re.compile(rf"({_NUM})\s*%\s*[-–]\s*({_NUM})\s*%"),
            lambda m: f"{m[1]}% đến {m[2]}%",
        ),
        *quantities.RULES,
        Rule("month", re.compile(r"\b([Tt]háng)\s+(\d{1,2})(?![\w/,.])"), _month),
        Rule("currency", re.compile(r"(\d)\s*(?:VNĐ|VND|vnđ|đ)(?!\w)"), lambda m: f"{m[1]} đồng"),
        *per_unit.build(vocab.units),
        *quantities.RULES_SIGNS,
    ]
    if units:
        rules.append(
            Rule(
                "unit",  # after a digit, or after a scale word: "12 triệu m3"
                re.compile(rf"(\d|(?<!\w)(?:nghìn|ngàn|triệu|tỷ|tỉ)(?= ))\s*({units})(?![\w²³])"),
                unit,
            )
        )
    if abbreviations:
        rules.append(
            Rule(
                "abbreviation",
                re.compile(rf"(?<![\w&-])(?:{abbreviations})(?:-(?:{abbreviations}))*(?![\w&])"),
                abbreviation,
            )
        )
    rules += quantities.RULES_LATE
    return rules


def _lexicon_rules(lexicon: Mapping[str, str]) -> list[Rule]:
    """Operators' words first, whole words as written, so no later rule splits them."""
    if not lexicon:
        return []
    keys = _alternation(lexicon)
    return [
        Rule(
            "lexicon",
            re.compile(rf"(?<![\w'’-])(?:{keys})(?![\w'’-])"),
            lambda m: lexicon[m.group(0)],
        )
    ]


def apply_rules(text: str, rules: list[Rule]) -> str:
    for rule in rules:
        text = rule.apply(text)
    return text
