"""``X/Y`` after a quantity: "per", read "một" or "trên" as announcers do.

Money, percentages and counts per person or per time are "một" ("đồng một ki lô gam",
"phần trăm một tháng", "hai lần một ngày", "đồng một hộ một tháng"); a physical quantity
per area, volume or time is "trên" ("tấn trên héc ta", "con trên mét vuông", "ki lô mét
trên giờ", "mét khối trên giây"). Units after the slash are expanded here, in every
position of a chain; the unit before it is left to the number+unit rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from audio.normalise import cues
from audio.normalise.context import words_before
from audio.normalise.rule import Rule

SLASH_ONLY_UNITS = {"h": "giờ", "s": "giây", "l": "lít", "ng": "người"}
_WORD = r"(?:[^\W\d_]+\d?|%|°C)"


def separator(head: str, den: str) -> str:
    head, den = head.lower(), den.lower()
    if head in cues.MONEY_WORDS or den in cues.PER_CAPITA:
        return "một"
    if den in cues.TIME_UNITS:
        return "trên" if head in cues.PHYSICAL_UNITS else "một"
    return "trên"


def build(units: Mapping[str, str]) -> list[Rule]:
    table = {**SLASH_ONLY_UNITS, **units}

    def replace(m: re.Match[str]) -> str:
        before = words_before(m.string, m.start(), 3)
        if not any(any(c.isdigit() for c in w) for w in before) and not re.search(
            r"\d\s*$", m.string[max(0, m.start() - 8) : m.start()]
        ):
            return m.group(0)
        head = m["head"]
        parts = [p.strip() for p in m["tail"].split("/")[1:]]
        out, sep, numerator = head, "", head
        for den in parts:
            sep = "một" if sep == "một" else separator(numerator, den)
            out += f" {sep} {table.get(den, den)}"
            numerator = den
        return out

    # starts only at a word start (not inside a word, not after a slash): linear time
    head = r"(?<![^\W\d_])(?<!/)[^\W\d_]+\d?|(?<!/)%|(?<!/)°C"
    pattern = re.compile(rf"(?P<head>{head})(?P<tail>(?:\s*/\s*{_WORD})+)(?![\w/])")
    return [Rule("per unit", pattern, replace)]
