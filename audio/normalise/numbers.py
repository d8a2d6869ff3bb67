"""Vietnamese readings of whole numbers, as a northern announcer says them
("một trăm lẻ năm", "hai mươi mốt", "mười lăm", "hai nghìn không trăm hai mươi lăm").

g2p-hamster reads numbers the same way; this copy exists because the project's own rules
(document numbers, times, phone numbers) must produce words before hamster sees the text.
"""

from __future__ import annotations

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_MONTHS = {1: "một", 4: "tư"}


def read_digits(digits: str) -> str:
    """Digit by digit, as phone numbers are read: "091" -> "không chín một"."""
    return " ".join(DIGITS[int(c)] for c in digits if c.isdigit())


MAX_CARDINAL_DIGITS = 18
"""Longer digit runs are codes, not quantities: read them digit by digit (and never hand
Python's int() a 10,000-digit string)."""


def read_digit_string(digits: str) -> str:
    """A run of digits (thousands dots allowed) as a cardinal, or digit by digit if long."""
    plain = digits.replace(".", "")
    if len(plain.lstrip("0")) > MAX_CARDINAL_DIGITS:
        return read_digits(plain)
    return read_number(int(plain.lstrip("0") or "0"))


def _below_thousand(n: int, inner: bool) -> list[str]:
    """``inner``: the group follows a larger one, so zero hundreds are said ("không trăm")."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or inner:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("lẻ")
            words.append(DIGITS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else DIGITS[units])
    else:
        words += [DIGITS[tens], "mươi"]
        if units:
            words.append({1: "mốt", 5: "lăm"}.get(units, DIGITS[units]))
    return words


def read_number(n: int) -> str:
    """Cardinal reading of ``n``; zero groups are skipped ("một triệu không trăm lẻ năm")."""
    if n < 0:
        return "âm " + read_number(-n)
    if n == 0:
        return "không"
    if n >= 10**9:
        high, low = divmod(n, 10**9)
        head = read_number(high) + " tỷ"
        return head if low == 0 else head + " " + " ".join(_below_billion(low, inner=True))
    return " ".join(_below_billion(n, inner=False))


def _below_billion(n: int, inner: bool) -> list[str]:
    words: list[str] = []
    for scale, name in ((10**6, "triệu"), (10**3, "nghìn"), (1, "")):
        group, n = divmod(n, scale)
        if group == 0:
            continue
        words += _below_thousand(group, inner=inner or bool(words))
        if name:
            words.append(name)
    return words


def read_month(month: int) -> str:
    """Months 4 and 1 have their own names after "tháng": "tháng tư", "tháng một"."""
    return _MONTHS.get(month, read_number(month))
