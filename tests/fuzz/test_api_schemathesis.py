"""The REST API fuzzed from its own OpenAPI document: no request may produce a 5xx.

The app is ``create_app`` with a real SQLite file, a real Mosquitto and espeak-ng only,
served by uvicorn in this process on a loopback port; schemathesis generates requests for
every operation (valid and invalid bodies, paths, queries) and each answer must be < 500.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import uvicorn
from fuzz.budget import fuzz_settings
from schemathesis.openapi import from_dict
from support.processes import wait_until

from controller.app import create_app
from controller.broker.process import MosquittoProcess, free_port
from controller.config import ControllerSettings

pytestmark = pytest.mark.integration


class LoopbackServer:
    """uvicorn in a thread: the real HTTP stack and lifespan, stopped at the end."""

    def __init__(self, settings: ControllerSettings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        wait_until(lambda: self.server.started, 30)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def _settings(base: Path, mqtt_port: int) -> ControllerSettings:
    return ControllerSettings(
        data_dir=base / "controller",
        mqtt_port=mqtt_port,
        tts_engine_order=["espeak-ng"],
        api_anonymous_admin=True,
        scheduler_enabled=False,
    )


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base: Path = tmp_path_factory.mktemp("schemathesis")
    broker = MosquittoProcess(base / "mosquitto")
    broker.start()
    try:
        with LoopbackServer(_settings(base, broker.port)) as server:
            yield server.url
    finally:
        broker.stop()


# The document is the app's own (building the app starts nothing: that is the lifespan's job).
schema = from_dict(create_app(_settings(Path("unused"), 1883)).openapi())


@schema.parametrize()
@fuzz_settings(25)
def test_no_server_errors(api_url: str, case: schemathesis.Case) -> None:
    response = case.call(base_url=api_url, timeout=60)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
