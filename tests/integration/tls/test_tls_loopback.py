"""TLS on loopback with a self-made CA: Mosquitto on an 8883-style listener with the real
controller and agent connecting through ``mqtt_tls_ca``; HTTPS from uvicorn checked by httpx
against the same CA; a client without the CA is refused in both cases."""

from __future__ import annotations

import importlib.util
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from support.processes import AgentProcess, ControllerProcess, wait_until

from controller.broker.process import MosquittoProcess, free_port

pytestmark = pytest.mark.integration

_spec = importlib.util.spec_from_file_location(
    "make_ca", Path(__file__).parents[3] / "deploy" / "tls" / "make_ca.py"
)
assert _spec is not None and _spec.loader is not None
make_ca_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_ca_module)


@pytest.fixture
def pki(tmp_path: Path) -> tuple[Path, Path, Path]:
    ca, cert, key = make_ca_module.make_ca(tmp_path / "pki", ["localhost", "127.0.0.1"])
    assert key.stat().st_mode & 0o077 == 0
    return ca, cert, key


@pytest.fixture
def tls_broker(tmp_path: Path, pki: tuple[Path, Path, Path]) -> Iterator[MosquittoProcess]:
    ca, cert, key = pki
    broker = MosquittoProcess(
        tmp_path / "mosquitto",
        extra_config=f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\ntls_version tlsv1.2",
    )
    broker.start()
    yield broker
    broker.stop()


def test_controller_and_agent_over_mqtt_tls(
    tmp_path: Path, tls_broker: MosquittoProcess, pki: tuple[Path, Path, Path]
) -> None:
    ca = pki[0]
    ctl = ControllerProcess(tmp_path / "ctl", tls_broker.port, mqtt_tls_ca=str(ca))
    ctl.start()  # waits for mqtt_connected: the TLS handshake succeeded
    agent: AgentProcess | None = None
    try:
        with ctl.api() as api:
            api.post("/api/v1/zones", json={"id": "xa", "name": "Xã"}).raise_for_status()
            body = {"id": "loa-1", "name": "Loa 1", "zone_id": "xa"}
            api.post("/api/v1/nodes", json=body).raise_for_status()
        agent = AgentProcess(
            tmp_path / "loa-1", "loa-1", tls_broker.port, ctl.url, ctl.signing_keys(),
            zones=["xa"], mqtt_tls_ca=str(ca),
        )  # fmt: skip
        agent.start()
        with ctl.api() as api:
            wait_until(lambda: api.get("/api/v1/nodes").json()[0]["online"], 30)
            r = api.post("/api/v1/commands", json={"action": "volume", "node_id": "loa-1",
                                                   "volume": 40})  # fmt: skip
            assert r.status_code == 201, r.text
            cid = r.json()["id"]
            wait_until(
                lambda: api.get(f"/api/v1/commands/{cid}").json()["nodes"][0]["state"] == "acked",
                20,
            )
    finally:
        if agent is not None:
            agent.stop()
        ctl.stop()


def test_plain_and_untrusted_clients_are_refused(
    tls_broker: MosquittoProcess, tmp_path: Path
) -> None:
    plain = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, "plain", protocol=mqtt.MQTTv5)
    try:
        plain.connect(tls_broker.host, tls_broker.port, keepalive=5)
        for _ in range(4):
            plain.loop(timeout=0.5)
    except OSError:
        pass  # refused outright: also fine
    assert not plain.is_connected(), "a client without TLS got an MQTT session"
    other_ca = make_ca_module.make_ca(tmp_path / "other", ["localhost"])[0]
    wrong = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, "wrong", protocol=mqtt.MQTTv5)
    wrong.tls_set(ca_certs=str(other_ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(ssl.SSLError):
        wrong.connect(tls_broker.host, tls_broker.port)


def test_https_with_uvicorn_and_the_private_ca(
    tmp_path: Path, pki: tuple[Path, Path, Path]
) -> None:
    """The documented command: uvicorn --ssl-certfile/--ssl-keyfile in front of the app."""
    ca, cert, key = pki
    port = free_port()
    app = tmp_path / "tls_app.py"
    app.write_text(
        "from fastapi import FastAPI\napp = FastAPI()\n"
        "@app.get('/api/v1/health')\ndef health():\n    return {'status': 'ok'}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tls_app:app", "--host", "127.0.0.1",
         "--port", str(port), "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"https://127.0.0.1:{port}/api/v1/health"

        def up() -> bool:
            try:
                return httpx.get(url, verify=ssl.create_default_context(cafile=str(ca))).is_success
            except httpx.ConnectError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                    raise
                time.sleep(0.1)
                return False

        assert wait_until(up, 20)
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(url)  # the system store does not know our CA
    finally:
        proc.terminate()
        proc.wait(10)
