"""Shared rig for the agent-distribution tests: a release built once per module from this
source tree (wheel + a lock of the shared venv's versions, its dependencies re-packed as
offline wheels), a TLS Mosquitto and an HTTPS controller with the private CA that serves it,
and the served installer run into a sandbox prefix (``--prefix DIR --no-systemd``)."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.processes import wait_until
from support.served_controller import ServedController, load_make_ca
from support.wheelhouse import build_wheelhouse

from controller.agentdist.lock import parse_lock
from controller.broker.process import MosquittoProcess, free_port
from controller.config import ControllerSettings
from controller.db.models import Node
from protocol.clock import SystemClock

REPO = Path(__file__).resolve().parents[3]
Pki = tuple[Path, Path, Path]


def clean_env(**extra: str) -> dict[str, str]:
    """No PYTHONPATH (the node must run the installed release, not this tree), no LOA_*."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOA_", "PYTHON", "PIP_", "VIRTUAL_ENV"))
    }
    return {**env, **extra}


def loa(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "cli.main", *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)


def build(dist: Path, version: str, lock: Path, source: Path = REPO) -> dict[str, str]:
    r = loa("agent-dist", "build", "--dist-dir", str(dist), "--version", version,
            "--lock", str(lock), "--source", str(source))  # fmt: skip
    assert r.returncode == 0, r.stderr
    built: dict[str, str] = json.loads(r.stdout.strip().splitlines()[-1])
    return built


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    ca, cert, key = load_make_ca().make_ca(
        tmp_path_factory.mktemp("pki"), ["localhost", "127.0.0.1"]
    )
    return ca, cert, key


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(agent-dist folder with release 0.1.0 and offline wheels, the lock it was built with)."""
    root = tmp_path_factory.mktemp("agent-dist")
    pins = parse_lock((REPO / "deploy" / "agent" / "requirements.lock").read_text())
    build_wheelhouse(sorted(pins), root / "wheels")
    lock = root.parent / f"{root.name}.lock"
    r = loa("agent-dist", "lock", "--wheelhouse", str(root / "wheels"), "--out", str(lock))
    assert r.returncode == 0, r.stderr
    build(root, "0.1.0", lock)
    return root, lock


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Pki) -> Iterator[MosquittoProcess]:
    ca, cert, key = pki
    broker = MosquittoProcess(
        tmp_path / "mosquitto",
        extra_config=f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\ntls_version tlsv1.2",
    )
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def served(
    tmp_path: Path, pki: Pki, dist: tuple[Path, Path], tls_broker: MosquittoProcess
) -> Iterator[ServedController]:
    ca, cert, key = pki
    port = free_port()
    settings = ControllerSettings(
        data_dir=tmp_path / "ctl",
        tts_engine_order=["espeak-ng"],
        mqtt_port=tls_broker.port,
        mqtt_tls_ca=ca,
        mqtt_client_id="ctl-dist",
        agent_tls_ca=ca,
        agent_dist_dir=dist[0],
        public_url=f"https://127.0.0.1:{port}",
        heartbeat_interval_s=2,
    )
    server = ServedController(settings, SystemClock(), tls=(cert, key), port=port)
    server.__enter__()
    yield server
    server.__exit__()


def api(server: ServedController, pki: Pki) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, verify=ssl.create_default_context(cafile=str(pki[0])), timeout=60
    )


def new_node(server: ServedController, pki: Pki, node_id: str) -> str:
    with api(server, pki) as client:
        zone = client.post("/api/v1/zones", json={"id": "xa", "name": "Xã"})
        assert zone.status_code in (201, 409), zone.text
        r = client.post("/api/v1/nodes", json={"id": node_id, "name": node_id, "zone_id": "xa"})
        assert r.status_code == 201, r.text
        token: str = r.json()["enrol_token"]
        return token


def run_installer(
    server: ServedController, pki: Pki, token: str, prefix: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """The documented one-liner, in sandbox mode: curl the served script into sh."""
    token_file = prefix.parent / f"{prefix.name}.token"
    token_file.write_text(token)
    line = (
        f"curl -fsS --cacert {pki[0]} {server.url}/agent/install.sh | sh -s -- "
        f"--controller {server.url} --token-file {token_file} --prefix {prefix} --no-systemd "
        f"--player tap --python {sys.executable} " + " ".join(extra)
    )
    return subprocess.run(
        line, shell=True, env=clean_env(), capture_output=True, text=True, timeout=600
    )


@dataclass
class NodeAgent:
    """``loa-release run`` (the supervisor systemd would start) on the sandbox prefix."""

    prefix: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.prefix / "etc" / "agent.toml"

    def start(self, **env: str) -> None:
        log = (self.prefix / "agent.log").open("ab")
        self.proc = subprocess.Popen(
            [str(self.prefix / "bin" / "loa-release"), "run", "--", "--config", str(self.config)],
            env=clean_env(LOA_ROOT=str(self.prefix), **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

    def log(self) -> str:
        path = self.prefix / "agent.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def reported_version(server: ServedController, node_id: str) -> str | None:
    with server.ctl.sessions() as session:
        node = session.get(Node, node_id)
        hb = node.last_heartbeat if node is not None else None
        return hb.get("agent_version") if hb else None


def wait_version(server: ServedController, node: NodeAgent, version: str, timeout: float) -> None:
    try:
        wait_until(lambda: reported_version(server, "loa-1") == version, timeout)
    except AssertionError:
        raise AssertionError(f"node never reported {version}; log:\n{node.log()}") from None
