"""Enrolment writes a private, loadable config; sd_notify speaks the NOTIFY_SOCKET datagram."""

from __future__ import annotations

import io
import json
import socket
import stat
from pathlib import Path

import httpx
import pytest

from agent.config import AgentSettings
from agent.enrol import (
    EnrolError,
    EnrolOptions,
    read_token,
    render_config,
    request_enrolment,
    write_private,
)
from agent.systemd_notify import notify, watchdog_interval_s
from protocol.enrol_token import EnrolToken, key_pin
from protocol.signing import Signer

KEY = Signer.generate().public_key_b64
TOKEN = str(EnrolToken("thon-1-loa-2", "s" * 43, key_pin(KEY)))
INSECURE = EnrolOptions(insecure=True)


def controller(answer: httpx.Response) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/enrol"
        assert json.loads(request.content) == {"token": TOKEN}
        return answer

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_enrolment_writes_a_0600_config_the_agent_can_load(tmp_path: Path) -> None:
    answer = httpx.Response(
        200,
        json={
            "node_id": "thon-1-loa-2",
            "mqtt_username": "node-thon-1-loa-2",
            "mqtt_password": 'p"w\\d',
            "signing_keys": [Signer.generate().public_key_b64, KEY],  # only the pinned one kept
            "zones": ["xa-a", "thon-1"],
            "mqtt_host": "broker.example",
            "mqtt_port": 8884,
            "min_playlist_version": 1764600000000,
        },
    )
    enrolment = request_enrolment("http://ctl:8080", TOKEN, controller(answer), INSECURE)
    path = tmp_path / "etc" / "agent.toml"
    write_private(path, render_config(enrolment, "http://ctl:8080", mqtt_port=8883))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = AgentSettings.load(path)
    assert settings.node_id == "thon-1-loa-2"
    assert settings.zones == ["xa-a", "thon-1"]
    assert settings.mqtt_host == "broker.example" and settings.mqtt_port == 8883  # override
    assert settings.mqtt_password is not None
    assert settings.mqtt_password.get_secret_value() == 'p"w\\d'
    assert settings.trusted_keys == [KEY]
    assert settings.min_playlist_version == 1764600000000


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(403, text="token already used"), "HTTP 403 token already used"),
        (httpx.Response(200, json={"node_id": "Bad Id!"}), "unexpected enrolment answer"),
    ],
)
def test_enrolment_failures_are_explained(answer: httpx.Response, message: str) -> None:
    with pytest.raises(EnrolError, match=message):
        request_enrolment("http://ctl:8080", TOKEN, controller(answer), INSECURE)


def test_token_comes_from_a_file_or_stdin_never_argv(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    assert read_token(None, path) == TOKEN
    assert read_token("-", None, io.StringIO(TOKEN)) == TOKEN
    assert read_token(None, Path("-"), io.StringIO(TOKEN)) == TOKEN
    with pytest.raises(EnrolError, match="command line"):
        read_token(TOKEN, None)
    with pytest.raises(EnrolError, match="empty"):
        read_token("-", None, io.StringIO("  \n"))


def test_sd_notify_sends_a_datagram(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(address)
        monkeypatch.setenv("NOTIFY_SOCKET", address)
        assert notify("READY=1")
        assert server.recv(100) == b"READY=1"


def test_sd_notify_without_systemd_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify("WATCHDOG=1") is False


def test_watchdog_interval_is_half_the_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval_s() == 30.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert watchdog_interval_s() is None


class KeyServer:
    """A loopback HTTP server answering GET /api/v1/signing-keys."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status if self.path == "/api/v1/signing-keys" else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_keys_are_fetched_once_when_allowed(tmp_path: Path) -> None:
    from agent.runtime import build_verifier

    server = KeyServer(json.dumps({"keys": [KEY]}).encode())
    try:
        settings = AgentSettings(
            node_id="n1", controller_url=server.url, fetch_keys_on_start=True, data_dir=tmp_path
        )
        assert len(build_verifier(settings).key_ids) == 1
    finally:
        server.close()


def test_bad_key_answer_is_a_config_error(tmp_path: Path) -> None:
    from agent.runtime import AgentConfigError, build_verifier

    server = KeyServer(b'{"keys": []}')
    try:
        settings = AgentSettings(
            node_id="n1", controller_url=server.url, fetch_keys_on_start=True, data_dir=tmp_path
        )
        with pytest.raises(AgentConfigError, match="returned no keys"):
            build_verifier(settings)
    finally:
        server.close()
