"""Operators' pronunciation entries ("written" -> "spoken"): which apply to a text, and a
short digest of those, so a render is cached per the entries that changed its words."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping

MAX_WRITTEN = 100
MAX_SPOKEN = 300
_SPOKEN_OK = re.compile(r"^[^\W\d_]+(?:(?:, ?|[ '’-])[^\W\d_]+)*$")


def check_entry(written: str, spoken: str) -> str | None:
    """Why an entry is refused, or None. Written forms are one line; spoken forms are words
    (letters, spaces, apostrophes, hyphens, commas): no digits or symbols a later rule
    would read again."""
    if not written.strip() or len(written) > MAX_WRITTEN or "\n" in written:
        return f"the written form must be 1-{MAX_WRITTEN} characters on one line"
    if written != written.strip():
        return "the written form must not start or end with a space"
    if any(unicodedata.category(c)[0] == "C" for c in written):
        return "the written form must not hold control characters"
    if not spoken.strip() or len(spoken) > MAX_SPOKEN:
        return f"the spoken form must be 1-{MAX_SPOKEN} characters"
    if not _SPOKEN_OK.match(" ".join(spoken.split())):
        return "the spoken form must be words only (letters, spaces, ' and -)"
    return None


def _pattern(written: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w'’-]){re.escape(written)}(?![\w'’-])")


def applied(text: str, lexicon: Mapping[str, str]) -> dict[str, str]:
    """The entries whose written form occurs in ``text`` as a whole word."""
    return {w: s for w, s in lexicon.items() if _pattern(w).search(text)}


def digest(entries: Mapping[str, str]) -> str | None:
    """A short hash of ``entries`` (None when there are none, so old cache keys hold)."""
    if not entries:
        return None
    blob = json.dumps(dict(sorted(entries.items())), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]
