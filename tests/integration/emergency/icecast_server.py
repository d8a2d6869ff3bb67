"""A private Icecast 2 on a free loopback port, for the live-relay test (skipped without it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from controller.broker.process import free_port

CONFIG = """<icecast>
  <location>loopback</location><admin>test@localhost</admin>
  <limits>
    <clients>20</clients><sources>2</sources><queue-size>524288</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout><burst-on-connect>0</burst-on-connect>
    <burst-size>0</burst-size>
  </limits>
  <authentication>
    <source-password>{password}</source-password>
    <admin-user>admin</admin-user><admin-password>{password}</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <mount type="normal"><mount-name>/live.mp3</mount-name><burst-size>0</burst-size></mount>
  <fileserve>1</fileserve>
  <paths>
    <basedir>{root}</basedir><logdir>{root}/log</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot>
    <pidfile>{root}/icecast.pid</pidfile>
  </paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot>{owner}</security>
</icecast>
"""


class IcecastServer:
    def __init__(self, workdir: Path, password: str = "hackme-test") -> None:
        binary = shutil.which("icecast2") or shutil.which("icecast")
        if binary is None:
            raise FileNotFoundError("icecast2 is not installed")
        self.binary = binary
        self.workdir = workdir
        self.password = password
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        (self.workdir / "log").mkdir(parents=True, exist_ok=True)
        # Icecast refuses to run as root unless it may drop to another user
        owner = (
            "<changeowner><user>nobody</user><group>nogroup</group></changeowner>"
            if os.geteuid() == 0
            else ""
        )
        if owner:
            for path in (self.workdir, self.workdir / "log"):
                path.chmod(0o777)
        config = self.workdir / "icecast.xml"
        config.write_text(
            CONFIG.format(password=self.password, port=self.port, root=self.workdir, owner=owner)
        )
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/status-json.xsl", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"icecast2 did not start: {self.error_log()}")

    def has_source(self, mount: str) -> bool:
        """True once a source is streaming to ``mount``."""
        try:
            stats = httpx.get(f"http://127.0.0.1:{self.port}/status-json.xsl", timeout=1).json()
        except (httpx.HTTPError, ValueError):
            return False
        sources = stats.get("icestats", {}).get("source", [])
        sources = sources if isinstance(sources, list) else [sources]
        return any(str(s.get("listenurl", "")).endswith(mount) for s in sources)

    def error_log(self) -> str:
        log = self.workdir / "log" / "error.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
