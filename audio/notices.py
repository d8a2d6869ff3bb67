"""The twenty fixed Vietnamese notices used by ``loa bench tts`` and the audio tests."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import yaml


@dataclass(frozen=True)
class Notice:
    id: str
    text: str


def load_notices() -> list[Notice]:
    raw = yaml.safe_load(files("audio.data").joinpath("notices.yaml").read_text(encoding="utf-8"))
    return [Notice(str(n["id"]), str(n["text"]).strip()) for n in raw["notices"]]
