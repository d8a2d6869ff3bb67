"""The twenty fixed Vietnamese notices used by ``loa bench tts`` and the audio tests.

They are benchmark input, so they live with the benchmarks (``notices.yaml`` beside this
module), not in the product's ``audio`` package.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import yaml


@dataclass(frozen=True)
class Notice:
    id: str
    text: str


def load_notices() -> list[Notice]:
    raw = yaml.safe_load(
        files("loadsim.bench").joinpath("notices.yaml").read_text(encoding="utf-8")
    )
    return [Notice(str(n["id"]), str(n["text"]).strip()) for n in raw["notices"]]
