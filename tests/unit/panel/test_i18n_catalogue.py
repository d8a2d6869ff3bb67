"""The panel's message catalogues (controller/panel/i18n/): complete in both languages,
the same placeholders on both sides, and every key the code asks for exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

PANEL = Path(__file__).resolve().parents[3] / "controller" / "panel"
VI = json.loads((PANEL / "i18n" / "vi.json").read_text(encoding="utf-8"))
EN = json.loads((PANEL / "i18n" / "en.json").read_text(encoding="utf-8"))
PLACEHOLDER = re.compile(r"\{(\w*)\}")
# t("key") / page.t("key") / t('key') with a literal key (dynamic keys are built from these)
USED = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.-]+)["']\s*[,)]""")


def test_every_key_is_in_both_languages() -> None:
    assert sorted(set(VI) - set(EN)) == []
    assert sorted(set(EN) - set(VI)) == []


def test_both_languages_take_the_same_values() -> None:
    differ = {
        key: (VI[key], EN[key])
        for key in VI
        if sorted(PLACEHOLDER.findall(VI[key])) != sorted(PLACEHOLDER.findall(EN[key]))
    }
    assert differ == {}


def test_no_message_is_empty() -> None:
    assert [k for k, v in {**VI, **EN}.items() if not v.strip()] == []


def test_every_key_the_panel_asks_for_exists() -> None:
    used: dict[str, str] = {}
    for path in [*PANEL.rglob("*.py"), *(PANEL / "templates").glob("*.html")]:
        for key in USED.findall(path.read_text(encoding="utf-8")):
            used.setdefault(key, path.name)
    assert len(used) > 200  # the scan reads the code (not an empty pattern)
    missing = {key: where for key, where in used.items() if key not in VI}
    assert missing == {}
