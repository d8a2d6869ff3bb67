"""The words around a match, which decide how an ambiguous form is read.

Rules look at up to a few words before and after a number ("đường 3/2" is a street,
"1/2 số hộ" a fraction, "gọi 113" a service number). Words are lower-cased and stripped of
punctuation; a sentence end (. ! ? ;) or a line break stops the look-back, because what
was said before it no longer qualifies the number.
"""

from __future__ import annotations

import itertools
import re

_WORD = re.compile(r"[^\W_]+(?:[&][^\W_]+)*", re.UNICODE)
WINDOW = 240
"""Characters looked at on each side: enough for a clause, and it keeps every rule linear
in the text's length (a 10,000-character notice of numbers must not take seconds)."""

CLAUSE_END = ".!?;:\n"
SENTENCE_END = ".!?;\n"


def words_before(text: str, pos: int, n: int = 4, stops: str = CLAUSE_END) -> list[str]:
    """The last ``n`` words before ``pos`` in the same clause, lower case, nearest last."""
    head = text[max(0, pos - WINDOW) : pos]
    ends = list(re.finditer(rf"[{re.escape(stops)}]\s", head))
    if ends:
        head = head[ends[-1].end() :]
    return [w.lower() for w in _WORD.findall(head)[-n:]]


def raw_word_before(text: str, pos: int) -> str:
    """The word right before ``pos`` as written (case kept), or ``""`` if there is none or
    it opens the sentence (where every word is capitalised)."""
    head = text[max(0, pos - 80) : pos]
    found = list(_WORD.finditer(head))
    if not found:
        return ""
    word = found[-1]
    before = text[max(0, pos - 80 - 40) : pos - len(head) + word.start()]
    return word.group(0) if before.strip() and before.rstrip()[-1] not in ".!?:;\n" else ""


def words_after(text: str, pos: int, n: int = 3) -> list[str]:
    """The next ``n`` words after ``pos`` in the same clause, lower case."""
    tail = text[pos : pos + WINDOW]
    stop = re.search(r"[.!?;:,\n]", tail)
    if stop:
        tail = tail[: stop.start()]
    return [w.lower() for w in _WORD.findall(tail)[:n]]


def ends_with(words: list[str], phrases: frozenset[str]) -> bool:
    """Whether the words end with one of ``phrases`` (one or two words each)."""
    if not words:
        return False
    return words[-1] in phrases or (len(words) >= 2 and f"{words[-2]} {words[-1]}" in phrases)


def starts_with(words: list[str], phrases: frozenset[str]) -> bool:
    if not words:
        return False
    return words[0] in phrases or (len(words) >= 2 and f"{words[0]} {words[1]}" in phrases)


def mentions(words: list[str], phrases: frozenset[str]) -> bool:
    """Whether any word or adjacent pair of ``words`` is one of ``phrases``."""
    pairs = {f"{a} {b}" for a, b in itertools.pairwise(words)}
    return bool(phrases.intersection(words) or phrases.intersection(pairs))
