"""Web addresses read by parts the way a listener can type them back.

``https://dichvucong.gov.vn`` -> "dịch vụ công chấm gờ o vê chấm vê nờ": the scheme is
dropped, dots are "chấm", slashes "gạch chéo", a label made of known words gets its tones
back ("dichvucong" -> "dịch vụ công", split greedily into the longest known words), a
short unknown label is spelled with Vietnamese letter names ("gdt" -> "giê dê tê"), and a
long unknown one is left for the engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from audio.normalise.rule import Rule

LETTERS = {
    "a": "a", "b": "bê", "c": "xê", "d": "dê", "e": "E", "f": "ép", "g": "giê", "h": "hát",
    "i": "i", "j": "gi", "k": "ca", "l": "lờ", "m": "mờ", "n": "nờ", "o": "o", "p": "pê",
    "q": "quy", "r": "rờ", "s": "ét", "t": "tê", "u": "u", "v": "vê", "w": "vê kép",
    "x": "ích", "y": "i", "z": "dét",
}  # fmt: skip
# "E" in capitals: g2p-hamster reads a lone lower-case "e" as "em" (chat shorthand).
DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
MAX_SPELLED = 6

_ADDRESS = re.compile(
    r"(?<![\w@.])(?:https?://)?(?:www\.)?(?:[a-z0-9][a-z0-9-]*\.)+"
    r"(?:vn|com|net|org|gov|edu|info)(?:\.vn)?(?:/[\w\-./?=&%]*[\w/])?(?![\w@])"
)


def _segment(label: str, words: Mapping[str, str]) -> list[str] | None:
    """Greedy longest-first split of ``label`` into known words, or None."""
    out: list[str] = []
    pos = 0
    longest = max((len(w) for w in words), default=0)
    while pos < len(label):
        for size in range(min(longest, len(label) - pos), 0, -1):
            piece = label[pos : pos + size]
            if piece in words:
                out.append(words[piece])
                pos += size
                break
        else:
            return None
    return out


def spell(label: str) -> str:
    return " ".join(LETTERS.get(c, DIGITS[int(c)] if c.isdigit() else c) for c in label)


def read_label(label: str, words: Mapping[str, str]) -> str:
    if label in words:
        return words[label]
    parts = _segment(label, words)
    if parts:
        return " ".join(parts)
    return spell(label) if len(label) <= MAX_SPELLED else label


def read_address(address: str, words: Mapping[str, str]) -> str:
    address = re.sub(r"^https?://", "", address)
    host, _, path = address.partition("/")
    spoken = " chấm ".join(read_label(label, words) for label in host.split("."))
    for part in filter(None, path.split("/")):
        spoken += " gạch chéo " + " chấm ".join(read_label(p, words) for p in part.split("."))
    return spoken


_EMAIL_END = re.compile(r"(?<=[\w-])(@[\w-]+(?:\.[\w-]+)+)([.,;:!?])(?=\s|$)")


def build(words: Mapping[str, str]) -> list[Rule]:
    return [
        Rule("web address", _ADDRESS, lambda m: read_address(m.group(0), words)),
        # "...@gmail.com." ends a sentence: the dot is a pause, not "chấm"
        Rule("e-mail end", _EMAIL_END, lambda m: f"{m[1]} {m[2]}"),
    ]
