"""The REST API fuzzed from its own OpenAPI document: no request may produce a 5xx.

The app is ``create_app`` with a real SQLite file, a real Mosquitto and espeak-ng only,
served by uvicorn in this process on a loopback port; schemathesis generates requests for
every operation (valid and invalid bodies, paths, queries) and each answer must be < 500.

It runs once per role, authenticated as a real panel user would call the API (session cookie
plus CSRF header; the anonymous-admin switch is off), over two seeded communes: a viewer and
an operator of xã Đồng Tiến, then the admin. The case budget is split between the roles so
the three runs together cost about half of what the single anonymous run did (13 cases
per operation in all).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from fuzz.budget import fuzz_settings
from integration.controller.two_communes import login, seed
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
        api_anonymous_admin=False,
        scheduler_enabled=False,
    )


@dataclass(frozen=True)
class Api:
    url: str
    headers: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    base: Path = tmp_path_factory.mktemp("schemathesis")
    broker = MosquittoProcess(base / "mosquitto")
    broker.start()
    try:
        with LoopbackServer(_settings(base, broker.port)) as server:
            seed(server.server.config.app.state.controller)
            with httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as client:
                headers = {who: login(client, who) for who in ("viewer", "operator", "admin")}
            yield Api(server.url, headers)
    finally:
        broker.stop()


# The document is the app's own (building the app starts nothing: that is the lifespan's job).
schema = from_dict(create_app(_settings(Path("unused"), 1883)).openapi())


def _check(api: Api, who: str, case: schemathesis.Case) -> None:
    response = case.call(base_url=api.url, headers=api.headers[who], timeout=60)
    assert response.status_code < 500, (
        f"{who}: {case.method} {case.formatted_path} -> {response.status_code}: "
        f"{response.text[:500]}"
    )


@schema.parametrize()
@fuzz_settings(3, minimum=2)
def test_no_server_errors_as_viewer(api: Api, case: schemathesis.Case) -> None:
    _check(api, "viewer", case)


@schema.parametrize()
@fuzz_settings(4, minimum=2)
def test_no_server_errors_as_operator(api: Api, case: schemathesis.Case) -> None:
    _check(api, "operator", case)


@schema.parametrize()
@fuzz_settings(6, minimum=3)
def test_no_server_errors_as_admin(api: Api, case: schemathesis.Case) -> None:
    _check(api, "admin", case)
