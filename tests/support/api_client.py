"""An in-process controller for API tests: settings on SQLite under a test's folder with
espeak-ng as the only engine (no network TTS), and a TestClient with its lifespan running."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from controller.app import create_app
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings


def controller_settings(
    root: Path, broker: MosquittoProcess, **overrides: Any
) -> ControllerSettings:
    """Data in ``root / "ctl"``, MQTT on ``broker``, a client id unique to ``root``."""
    values: dict[str, Any] = {
        "data_dir": root / "ctl",
        "tts_engine_order": ["espeak-ng"],
        "mqtt_port": broker.port,
        "mqtt_client_id": f"ctl-{root.name}",
    }
    return ControllerSettings(**{**values, **overrides})


@contextmanager
def api_client(root: Path, broker: MosquittoProcess, **overrides: Any) -> Iterator[TestClient]:
    """The whole app started on those settings; stopped when the block ends."""
    with TestClient(create_app(controller_settings(root, broker, **overrides))) as client:
        yield client
