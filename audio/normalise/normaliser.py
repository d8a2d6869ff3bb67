"""Announcement text -> the words an engine should say.

Order: Unicode NFC and whitespace clean-up, the project's commune rules (``rules.py``),
then g2p-hamster for everything general. The output is deterministic, which the render
cache relies on (same normalised text -> same file).
"""

from __future__ import annotations

import re
import unicodedata

from audio.normalise.hamster import Verbaliser, default_verbaliser
from audio.normalise.rules import apply_rules, build_rules
from audio.normalise.vocabulary import Vocabulary, load_default_vocabulary

_SPACES = re.compile(r"[ \t\u00a0]+")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.;:!?])")


class TextNormaliser:
    def __init__(
        self, vocabulary: Vocabulary | None = None, verbaliser: Verbaliser | None = None
    ) -> None:
        self.vocabulary = vocabulary or load_default_vocabulary()
        self.verbaliser = verbaliser or default_verbaliser()
        self._rules = build_rules(self.vocabulary)

    def normalise(self, text: str) -> str:
        text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
        lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
        text = "\n".join(line for line in lines if line)
        text = self.verbaliser.verbalise(apply_rules(text, self._rules))
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", text))
        return "\n".join(line.strip() for line in text.split("\n") if line.strip())
