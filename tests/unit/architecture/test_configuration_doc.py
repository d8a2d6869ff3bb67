"""docs/configuration.md (cited by the settings modules) lists every setting there is."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from agent.config import AgentSettings
from controller.config import ControllerSettings

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


@pytest.mark.parametrize("settings", [ControllerSettings, AgentSettings])
def test_every_setting_is_documented(settings: type[BaseSettings]) -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [n for n in settings.model_fields if f"`LOA_{n.upper()}`" not in text]
    assert not missing, f"document in docs/configuration.md: {missing}"
