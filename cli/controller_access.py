"""Open the controller's database and services from a command (``loa nodes``, ``loa users``,
``loa schedule``) without starting MQTT or HTTP: works while the service is down too."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cli.errors import CliError

if TYPE_CHECKING:
    from controller.services.container import Controller


def open_controller(config: Path | None) -> Controller:
    """Settings from ``config`` / ``LOA_*``; a bad setting is a one-line CLI error."""
    from pydantic import ValidationError

    from controller.config import ControllerSettings
    from controller.services.container import Controller

    try:
        return Controller.build(ControllerSettings.load(config))
    except (ValidationError, FileNotFoundError) as exc:
        raise CliError(f"invalid controller settings: {exc}") from None
