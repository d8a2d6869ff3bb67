"""A real controller app served by uvicorn in this process, optionally over HTTPS, with a
clock the test controls (token expiry and throttling windows without sleeping)."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import uvicorn

from controller.app import create_app
from controller.broker.process import free_port
from controller.config import ControllerSettings
from controller.services.container import Controller
from protocol.clock import Clock
from support.processes import AgentProcess, wait_until


def load_make_ca() -> ModuleType:
    """``deploy/tls/make_ca.py`` (a script, not a package) as a module."""
    path = Path(__file__).parents[2] / "deploy" / "tls" / "make_ca.py"
    spec = importlib.util.spec_from_file_location("make_ca", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ServedController:
    """``create_app(settings, clock)`` on a loopback port; ``tls=(cert, key)`` for HTTPS."""

    def __init__(
        self,
        settings: ControllerSettings,
        clock: Clock,
        tls: tuple[Path, Path] | None = None,
        start_services: bool = True,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.app = create_app(settings, clock, start_services=start_services)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ssl_certfile=str(tls[0]) if tls else None,
            ssl_keyfile=str(tls[1]) if tls else None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def ctl(self) -> Controller:
        ctl: Controller = self.app.state.controller
        return ctl

    def __enter__(self) -> ServedController:
        self.thread.start()
        wait_until(lambda: self.server.started, 30)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def quick_settings(
    tmp_path: Path, mqtt_port: int, data: str = "controller", **extra: Any
) -> ControllerSettings:
    """A controller for one test under ``tmp_path/data``: espeak-ng only, the JSON API open
    without a token, no background scheduler; ``extra`` overrides (e.g. ``http_port``)."""
    return ControllerSettings(
        data_dir=tmp_path / data,
        mqtt_port=mqtt_port,
        mqtt_client_id=f"ctl-{tmp_path.name}",
        tts_engine_order=["espeak-ng"],
        api_anonymous_admin=True,
        scheduler_enabled=False,
        **extra,
    )


def board_agent(
    api: httpx.Client, tmp_path: Path, mqtt_port: int, node: str, zone: str, **settings: str
) -> AgentProcess:
    """Register ``node`` in a new ``zone`` through ``api`` and make (not start) its agent,
    trusting this controller's signing keys; ``settings`` as ``LOA_*`` (``display_port``)."""
    assert api.post("/api/v1/zones", json={"id": zone, "name": zone}).is_success
    assert api.post("/api/v1/nodes", json={"id": node, "name": node, "zone_id": zone}).is_success
    keys = api.get("/api/v1/signing-keys").json()["keys"]
    url = str(api.base_url).rstrip("/")
    return AgentProcess(tmp_path / node, node, mqtt_port, url, keys, zones=[zone], **settings)
