"""Start the real ``loa controller`` and ``loa agent`` as child processes for e2e/fault tests.

Each process gets its own LOA_* environment (never the developer's), logs to a file in the
test's temp dir, and can be stopped cleanly or SIGKILLed like a power cut.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from controller.broker.process import free_port


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    env.update(extra)
    return env


class LoaProcess:
    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.args = args
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *self.args],
            env=_clean_env(self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class ControllerProcess(LoaProcess):
    def __init__(self, workdir: Path, mqtt_port: int, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            "LOA_DATA_DIR": str(workdir),
            "LOA_HTTP_PORT": str(self.port),
            "LOA_MQTT_PORT": str(mqtt_port),
            # tests stay on loopback: no probe of the online TTS service
            "LOA_TTS_ENGINE_ORDER": '["espeak-ng"]',
            "LOA_API_ANONYMOUS_ADMIN": "true",
            **{f"LOA_{k.upper()}": v for k, v in settings.items()},
        }
        super().__init__(["controller"], env, workdir.parent / f"{workdir.name}.log")
        workdir.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        super().start()

        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.log()[-3000:]
            try:
                return httpx.get(f"{self.url}/api/v1/health", timeout=1).json()["mqtt_connected"]
            except (httpx.HTTPError, ValueError):
                return False

        # generous: with parallel test workers on two cores a cold start can take a while
        wait_until(ready, 90)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def signing_keys(self) -> list[str]:
        keys: list[str] = httpx.get(f"{self.url}/api/v1/signing-keys").json()["keys"]
        return keys


class AgentProcess(LoaProcess):
    def __init__(
        self,
        workdir: Path,
        node_id: str,
        mqtt_port: int,
        controller_url: str,
        trusted_keys: list[str],
        zones: list[str] | None = None,
        **settings: str,
    ) -> None:
        env = {
            "LOA_NODE_ID": node_id,
            "LOA_DATA_DIR": str(workdir),
            "LOA_MQTT_PORT": str(mqtt_port),
            "LOA_CONTROLLER_URL": controller_url,
            "LOA_TRUSTED_KEYS": json.dumps(trusted_keys),
            "LOA_ZONES": json.dumps(zones or []),
            "LOA_PLAYER": "null",
            "LOA_HEARTBEAT_INTERVAL_S": "2",
            **{f"LOA_{k.upper()}": v for k, v in settings.items()},
        }
        super().__init__(["agent"], env, workdir.parent / f"{workdir.name}.log")
        workdir.mkdir(parents=True, exist_ok=True)
