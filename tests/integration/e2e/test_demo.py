"""`loa demo` as a user runs it: API up, 3 agents online within 10 s, an announcement played."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from support.processes import wait_until

from controller.broker.process import free_port

pytestmark = pytest.mark.integration


def test_demo_serves_api_agents_come_online_and_play(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    env["LOA_TTS_ENGINE_ORDER"] = '["espeak-ng"]'  # stay on loopback in tests
    log = (tmp_path / "demo.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "d"),
            "--heartbeat",
            "3",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def api_up() -> bool:
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            try:
                return httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(api_up, 60)
        started = time.monotonic()
        wait_until(lambda: httpx.get(f"{url}/api/v1/fleet").json()["online"] == 3, 10)
        assert time.monotonic() - started <= 10
        r = httpx.post(
            f"{url}/api/v1/announcements",
            json={"text": "Kính thưa bà con, 14h chiều nay họp bản.", "targets": ["xa-dong-tien"]},
            timeout=60,
        )
        assert r.status_code == 201, r.text

        def played() -> bool:
            events = httpx.get(f"{url}/api/v1/playback-events").json()
            kinds = {(e["node_id"], e["kind"]) for e in events}
            nodes = {"dong-an-1", "cay-thi-1", "khe-ngo-1"}
            return all((n, k) in kinds for n in nodes for k in ("started", "finished"))

        wait_until(played, 40)
        acl = (tmp_path / "d" / "broker-access" / "acl").read_text()
        assert (
            "user node-dong-an-1" in acl
            and "allow_anonymous false"
            in (tmp_path / "d" / "mosquitto" / "mosquitto.conf").read_text()
        )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert proc.returncode == 0


def test_demo_prints_one_admin_password_and_it_works(tmp_path: Path) -> None:
    """The controller's random first-admin password used to be logged and then replaced by
    the demo's: the printed one must be the only one, and it must log in. Being printed
    (and public), it must be changed at the first login."""
    import re

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    env["LOA_TTS_ENGINE_ORDER"] = '["espeak-ng"]'
    log_path = tmp_path / "demo.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "demo", "--port", str(port)],
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        printed = wait_until(
            lambda: re.search(r"login (\S+) / ([^\s,)]+)", log_path.read_text(errors="replace")),
            90,
        )
        log = log_path.read_text(errors="replace")
        assert "with password" not in log, log[-3000:]  # no second, dead password
        with httpx.Client(base_url=url, follow_redirects=False, timeout=60) as client:
            form = client.get("/panel/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf
            r = client.post(
                "/panel/login",
                data={
                    "username": printed.group(1),
                    "password": printed.group(2),
                    "csrf": csrf.group(1),
                },
            )
            assert r.status_code == 303 and r.headers["location"] == "/panel/password", r.text
            assert client.get("/panel/nodes").headers["location"] == "/panel/password"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
