"""``loa setup production --prefix DIR --no-systemd``: the whole production install in a
sandbox — real Mosquitto (TLS, per-node accounts), real nginx (TLS, media from disk, body
limits) and the controller as plain processes — then run again: an idempotent upgrade."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from controller.broker.process import free_port
from controller.ops.install_files import parse_env

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed"),
]
ROOT = Path(__file__).resolve().parents[3]


class Sandbox:
    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.https, self.mqtt, self.http, self.metrics = (free_port() for _ in range(4))
        self.ca = prefix / "etc/loa/tls/ca.pem"
        self.env_file = prefix / "etc/loa/controller.env"

    def setup(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "setup", "production", "--prefix", str(self.prefix),
             "--no-systemd", "--server-name", "localhost", "--python", sys.executable,
             "--source", str(ROOT), "--https-port", str(self.https), "--mqtt-port", str(self.mqtt),
             "--http-port", str(self.http), "--metrics-port", str(self.metrics), *extra],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    def api(self) -> httpx.Client:
        token = parse_env(self.env_file.read_text())["LOA_API_TOKEN"]
        return httpx.Client(
            base_url=f"https://localhost:{self.https}",
            verify=ssl.create_default_context(cafile=str(self.ca)),
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )

    def pid(self, name: str) -> int:
        return int((self.prefix / f"run/loa/{name}.pid").read_text())


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path / "root")
    try:
        yield box
    finally:
        box.setup("--stop")


@pytest.fixture
def second_machine(tmp_path: Path) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path / "new-machine")
    try:
        yield box
    finally:
        box.setup("--stop")


def mqtt_connect(box: Sandbox, username: str, password: str) -> str:
    """Connect over TLS with the sandbox CA; return the CONNACK reason."""
    result: dict[str, str] = {}
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=username, protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    client.tls_set(ca_certs=str(box.ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)

    def on_connect(_c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        result["reason"] = str(reason)
        done.set()

    client.on_connect = on_connect
    client.connect("localhost", box.mqtt, keepalive=10)
    client.loop_start()
    try:
        assert done.wait(10), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return result["reason"]


def test_sandbox_install_then_idempotent_upgrade(sandbox: Sandbox, second_machine: Sandbox) -> None:
    # SQLite by default; with LOA_TEST_POSTGRES=1 the fresh test database given as a URL
    url = os.environ.get("LOA_DATABASE_URL")
    first = sandbox.setup(*(["--database-url", url] if url else []))
    assert first.returncode == 0, first.stderr[-3000:]
    secrets = parse_env(sandbox.env_file.read_text())
    token = secrets["LOA_API_TOKEN"]
    assert len(token) >= 32 and first.stdout.count(token) == 1  # printed once
    assert secrets["LOA_MQTT_PASSWORD"] not in first.stdout
    assert sandbox.env_file.stat().st_mode & 0o777 == 0o600
    assert (sandbox.prefix / "etc/loa/tls/server.key").stat().st_mode & 0o077 == 0

    with sandbox.api() as api:
        # HTTPS through nginx, verified against the private CA, to the controller's health
        health = api.get("/api/v1/health")
        assert health.status_code == 200 and health.json()["status"] == "ok", health.text
        assert health.headers["x-request-id"]  # nginx's $request_id, passed through
        trust = ssl.create_default_context(cafile=str(sandbox.ca))
        anonymous = httpx.get(f"https://localhost:{sandbox.https}/api/v1/nodes", verify=trust)
        assert anonymous.status_code == 401
        assert api.get("/metrics").status_code == 404  # not exposed through nginx
        assert api.post("/api/v1/zones", content=b"x" * (2 * 1024 * 1024)).status_code == 413
        r = api.post("/api/v1/zones", json={"id": "xa-a", "name": "Xã A", "kind": "xã"})
        assert r.status_code == 201, r.text
        r = api.post("/api/v1/nodes", json={"id": "a-1", "name": "A 1", "zone_id": "xa-a"})
        assert r.status_code == 201, r.text
        enrol_token = api.post("/api/v1/nodes/a-1/enrolment-token").json()["enrol_token"]
        creds = api.post("/api/v1/enrol", json={"token": enrol_token}).json()
        notice = {"text": "Kính thưa bà con", "targets": ["xa-a"]}
        r = api.post("/api/v1/announcements", json=notice)
        assert r.status_code == 201, r.text
        media_url = r.json()["media_url"]
        # media through nginx to the controller, which asks who fetches: the node with its
        # own account (as its agent does), not an anonymous caller
        media_path = media_url.replace(f"https://localhost:{sandbox.https}", "")
        node = (creds["mqtt_username"], creds["mqtt_password"])
        media = httpx.get(f"https://localhost:{sandbox.https}{media_path}", verify=trust, auth=node)
        assert media.status_code == 200 and media.content[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
        assert "immutable" in media.headers["cache-control"]
        ranged = httpx.get(
            f"https://localhost:{sandbox.https}{media_path}",
            verify=trust,
            auth=node,
            headers={"Range": "bytes=10-"},
        )
        assert ranged.status_code == 206 and ranged.content == media.content[10:]
        nobody = httpx.get(f"https://localhost:{sandbox.https}{media_path}", verify=trust)
        assert nobody.status_code == 401
    # MQTT over TLS with the node's own account; a wrong password is refused
    assert mqtt_connect(sandbox, creds["mqtt_username"], creds["mqtt_password"]) == "Success"
    assert mqtt_connect(sandbox, creds["mqtt_username"], "wrong-password") != "Success"
    metrics = httpx.get(f"http://127.0.0.1:{sandbox.metrics}/metrics").text
    assert 'loa_nodes{commune="xa-a",state="offline"} 1.0' in metrics

    controller_pid = sandbox.pid("controller")
    release = (sandbox.prefix / "opt/loa/current").resolve()
    again = sandbox.setup()
    assert again.returncode == 0, again.stderr[-3000:]
    assert token not in again.stdout and "shown only this once" not in again.stdout
    assert "upgraded" in again.stdout
    after = parse_env(sandbox.env_file.read_text())
    assert {k: after[k] for k in ("LOA_API_TOKEN", "LOA_MQTT_PASSWORD")} == {
        k: secrets[k] for k in ("LOA_API_TOKEN", "LOA_MQTT_PASSWORD")
    }
    assert (sandbox.prefix / "opt/loa/current").resolve() != release  # a new release
    assert sandbox.pid("controller") != controller_pid  # restarted on it
    with sandbox.api() as api:
        assert api.get("/api/v1/health").json()["status"] == "ok"
        assert [n["id"] for n in api.get("/api/v1/nodes").json()] == ["a-1"]  # data kept
    # the node account survived the upgrade (accounts are rewritten from the database)
    assert mqtt_connect(sandbox, creds["mqtt_username"], creds["mqtt_password"]) == "Success"

    # IT staff's backup command against the running install (what the nightly timer runs)
    backups = sandbox.prefix / "var/backups/loa"
    admin = str(sandbox.prefix / "usr/local/sbin/loa-admin")
    for _ in range(2):
        done = subprocess.run([admin, "backup", "-o", str(backups), "--keep", "1"],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    (archive,) = backups.glob("loa-backup-*.tar")
    done = subprocess.run([admin, "restore", "--verify-only", str(archive)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and '"ok": true' in done.stdout, done.stderr[-2000:]

    # the disk dies: a new machine from the archive (+ the old TLS directory, as documented)
    sandbox.setup("--stop")
    new = second_machine
    shutil.copytree(sandbox.prefix / "etc/loa/tls", new.prefix / "etc/loa/tls")
    target_url = os.environ.get("LOA_DATABASE_URL")
    if target_url:  # PostgreSQL: restore into a new empty database
        target_url = _empty_database(target_url)
    db_args = ["--database-url", target_url] if target_url else []
    restored = new.setup("--restore", str(archive), *db_args)
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert "restored" in restored.stdout
    with new.api() as api:
        assert api.get("/api/v1/health").json()["status"] == "ok"
        assert [n["id"] for n in api.get("/api/v1/nodes").json()] == ["a-1"]
        media_path = media_url.replace(f"https://localhost:{sandbox.https}", "")
        assert api.get(media_path).status_code == 200
    assert new.ca.read_bytes() == sandbox.ca.read_bytes()  # agents keep their CA
    assert mqtt_connect(new, creds["mqtt_username"], creds["mqtt_password"]) == "Success"


def test_systemd_analyze_verifies_every_unit(tmp_path: Path) -> None:
    """Every unit file in deploy/ (and the ones setup writes) passes ``systemd-analyze verify``;
    ExecStart binaries are checked to exist, so they are looked up in a stand-in root."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    from controller.ops.install_files import (
        Layout,
        backup_units,
        broker_reload_units,
        controller_unit,
    )

    layout = Layout(prefix=Path("/"), server_name="loa.example.vn")
    generated = tmp_path / "generated"
    generated.mkdir()
    (generated / "loa-controller.service").write_text(controller_unit(layout))
    for name, text in {**broker_reload_units(layout), **backup_units(layout)}.items():
        (generated / name).write_text(text)
    units = sorted((ROOT / "deploy").rglob("*.service")) + sorted((ROOT / "deploy").rglob("*.path"))
    units += sorted(generated.iterdir())
    assert len(units) >= 5
    root = tmp_path / "root"
    stand_ins = (
        "opt/loa/venv/bin/loa", "opt/loa/venv/bin/python", "opt/loa/current/bin/loa",
        "opt/loa/bin/loa-release",  # the agent unit starts the release supervisor
        "usr/bin/cage",  # the e-board kiosk compositor (installed on Pis with a screen)
    )  # fmt: skip
    for exe in (*stand_ins, "bin/systemctl", "usr/local/sbin/loa-admin"):
        path = root / exe
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    # the system's own units (sysinit.target, mosquitto.service...) seen from the stand-in root
    (root / "usr/lib").mkdir(parents=True)
    (root / "usr/lib/systemd").symlink_to("/usr/lib/systemd")
    for unit in units:
        staged = root / "etc/systemd/system" / unit.name
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_text(unit.read_text())
    for unit in units:
        done = subprocess.run(
            [analyze, "verify", f"--root={root}", "--man=no", f"/etc/systemd/system/{unit.name}"],
            capture_output=True, text=True,
        )  # fmt: skip
        problems = [
            line for line in (done.stderr + done.stdout).splitlines()
            if unit.stem in line or "error" in line.lower()
        ]  # fmt: skip
        assert done.returncode == 0 and not problems, (unit, done.stderr)


def _empty_database(url: str) -> str:
    """A new database on the same PostgreSQL server as ``url`` (the test's server)."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"restored_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"
