"""A small message table: Vietnamese by default, English selectable (cookie ``loa_lang``).

Messages live in ``i18n/<lang>.json``; a key missing in English falls back to Vietnamese,
and a key missing everywhere shows itself, so a gap is visible, never a crash.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("vi", "en")
DEFAULT = "vi"
COOKIE = "loa_lang"
_DIR = Path(__file__).parent / "i18n"


@cache
def messages(lang: str) -> dict[str, str]:
    table: dict[str, str] = json.loads((_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return table


def pick_language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT


def translate(lang: str, key: str, **values: object) -> str:
    text = messages(lang).get(key) or messages(DEFAULT).get(key) or key
    return text.format(**values) if values else text
