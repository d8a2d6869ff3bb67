"""Shared pydantic-settings plumbing: environment (``LOA_`` prefix) over an optional TOML file.

Configuration *forbids* unknown keys, unlike wire models: a typo in a config file must fail
at start-up with a precise message, not be silently ignored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class LoaSettings(BaseSettings):
    """Base for controller and agent settings.

    Precedence: init kwargs > ``LOA_*`` environment > TOML file named by ``LOA_CONFIG``
    (or ``config_file=`` passed to :meth:`load`) > defaults.
    """

    model_config = SettingsConfigDict(env_prefix="LOA_", extra="forbid", env_nested_delimiter="__")
    _toml_path: ClassVar[Path | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = cls._toml_path or (Path(p) if (p := os.environ.get("LOA_CONFIG")) else None)
        if toml_path is not None:
            if not toml_path.is_file():
                raise FileNotFoundError(f"config file not found: {toml_path}")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> Any:
        """Build settings from ``config_file`` (TOML), the environment and ``overrides``."""
        previous = cls._toml_path
        cls._toml_path = config_file
        try:
            return cls(**overrides)
        finally:
            cls._toml_path = previous


def describe_settings_error(exc: ValidationError, env_prefix: str = "LOA_") -> str:
    """One line per refused setting, named as the operator sets it (``LOA_API_TOKEN: ...``).

    Inputs are never echoed: a refused value may be a secret.
    """
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        name = f"{env_prefix}{field.upper()}" if field else "settings"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{name}: {message}")
    return "\n".join(lines)
