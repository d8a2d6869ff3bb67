"""One rewrite rule: a pattern and what each match becomes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Replace = Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    replace: Replace

    def apply(self, text: str) -> str:
        return self.pattern.sub(self.replace, text)
