"""Over-the-air updates: a signed ``update`` command installs a new release side by side.

The agent waits until nothing plays, no emergency repeats and nothing is due within
``update_quiet_s``; then it fetches the release's signed manifest, checks it with its trusted
keys and every file's SHA-256 (the wheel's also against the command), has ``loa-release``
install it into ``releases/<version>`` and switch ``current`` on trial, and exits with status
75 so ``loa-release run`` starts the new release. Rolling back a release that never comes back
is ``loa-release``'s job (a shell script outside every release); this module only reports:
``update_installed`` once the new release has connected and sent a heartbeat, and
``update_failed`` (with the reason loa-release wrote) when the previous release is running again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from agent._version import VERSION
from agent.config import AgentSettings
from protocol.agent_dist import AgentManifest, DistFile
from protocol.clock import Clock
from protocol.errors import ProtocolError
from protocol.models import AgentUpdate, EventKind
from protocol.signing import Verifier

if TYPE_CHECKING:
    import httpx  # imported when an update runs: the idle agent does not carry it

log = logging.getLogger(__name__)

RESTART_EXIT_CODE = 75  # loa-release run starts `current` again
Emit = Callable[[EventKind, str], None]


class UpdateError(RuntimeError):
    """The update cannot be installed; the message is the ``update_failed`` detail."""


class ReleaseRoot:
    """The files ``loa-release`` shares with the agent under ``LOA_ROOT``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.trial = root / "trial"
        self.result = root / "update-result"
        self.tool = root / "bin" / "loa-release"

    def trial_version(self) -> str | None:
        try:
            return self.trial.read_text(encoding="utf-8").split()[0]
        except (OSError, IndexError):
            return None

    def take_result(self) -> str | None:
        """The rollback loa-release recorded (``update_failed <version> <reason>``), once."""
        try:
            text = self.result.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        self.result.unlink(missing_ok=True)
        kind, _, rest = text.partition(" ")
        version, _, reason = rest.partition(" ")
        return f"{version}: {reason}" if kind == "update_failed" else None


class Updater:
    def __init__(
        self,
        settings: AgentSettings,
        clock: Clock,
        verifier: Verifier,
        blocker: Callable[[datetime], str | None],
        emit: Emit,
        restart: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.verifier = verifier
        self.blocker = blocker
        self.emit = emit
        self.restart = restart
        root = settings.release_root
        self.releases = ReleaseRoot(root) if root is not None else None
        self._busy = threading.Lock()
        self._stop = threading.Event()

    # -- after a (re)start ----------------------------------------------------------------
    def report_rollback(self) -> None:
        """Report a rollback ``loa-release`` did before this (previous) release started."""
        if self.releases is not None and (failed := self.releases.take_result()):
            self.emit(EventKind.UPDATE_FAILED, failed)

    def confirm(self) -> None:
        """Called with each heartbeat: the release on trial is this one and it is connected."""
        if self.releases is None or self.releases.trial_version() != VERSION:
            return
        self.releases.trial.unlink(missing_ok=True)
        log.info("update to %s confirmed", VERSION)
        self.emit(EventKind.UPDATE_INSTALLED, VERSION)

    # -- the update -----------------------------------------------------------------------
    def start(self, update: AgentUpdate) -> None:
        if not self._busy.acquire(blocking=False):
            self.emit(EventKind.UPDATE_FAILED, f"{update.version}: another update is running")
            return
        threading.Thread(target=self._run, args=(update,), name="update", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self, update: AgentUpdate) -> None:
        try:
            if update.version == VERSION:
                self.emit(EventKind.UPDATE_INSTALLED, VERSION)
                return
            self._wait_until_idle()
            self._install(update)
        except UpdateError as exc:
            log.warning("update to %s failed: %s", update.version, exc)
            self.emit(EventKind.UPDATE_FAILED, f"{update.version}: {exc}")
            return
        finally:
            self._busy.release()
        log.warning("release %s installed; restarting into it", update.version)
        self.restart()

    def _wait_until_idle(self) -> None:
        s = self.settings
        deadline = self.clock.now().timestamp() + s.update_max_wait_s
        while (reason := self.blocker(self.clock.now())) is not None:
            if self.clock.now().timestamp() >= deadline:
                raise UpdateError(f"never quiet for {s.update_max_wait_s:.0f} s ({reason})")
            log.info("update waits: %s", reason)
            if self._stop.wait(s.update_poll_s):
                raise UpdateError("agent stopped while the update waited")

    def _install(self, update: AgentUpdate) -> None:
        if self.releases is None or not self.releases.tool.is_file():
            raise UpdateError("this agent was not installed by loa-release (no release root)")
        manifest = self._manifest(update)
        staging = self.releases.root / "staging" / update.version
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "wheels").mkdir(parents=True)
        import httpx

        try:
            with httpx.Client(timeout=300, verify=self.settings.http_verify()) as http:
                for f in manifest.files:
                    if f.role in ("agent", "lock") or f.role == "wheel":
                        url = update.url if f.role == "agent" else self._url(f"agent/{f.path}")
                        out = staging / ("wheels" if f.role == "wheel" else "") / f.name
                        _download(http, url, out, f)
            self._tool("install", str(staging), update.version, sys.executable, *self._site())
            self._tool("switch", update.version, "--trial")
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _manifest(self, update: AgentUpdate) -> AgentManifest:
        import httpx

        url = self._url(f"agent/{update.version}/manifest.json")
        try:
            resp = httpx.get(url, timeout=60, verify=self.settings.http_verify())
            resp.raise_for_status()
            manifest = self.verifier.verify(AgentManifest, resp.content)
        except httpx.HTTPError as exc:
            raise UpdateError(f"cannot fetch {url}: {exc}") from None
        except ProtocolError as exc:
            raise UpdateError(f"manifest refused: {exc}") from None
        if manifest.version != update.version:
            raise UpdateError(f"manifest is for {manifest.version}, not {update.version}")
        if manifest.file("agent").sha256 != update.sha256:
            raise UpdateError("the command's SHA-256 is not the manifest's")
        return manifest

    def _url(self, path: str) -> str:
        return urljoin(self.settings.controller_url.rstrip("/") + "/", path)

    def _site(self) -> list[str]:
        """Keep the system site packages (apt's gpiozero) if the running release has them."""
        cfg = Path(sys.prefix) / "pyvenv.cfg"
        with contextlib.suppress(OSError):
            if "include-system-site-packages = true" in cfg.read_text(encoding="utf-8"):
                return ["--system-site-packages"]
        return []

    def _tool(self, *args: str) -> None:
        assert self.releases is not None
        env_root = {"LOA_ROOT": str(self.releases.root)}
        import os

        proc = subprocess.run(
            ["/bin/sh", str(self.releases.tool), *args],
            env={**os.environ, **env_root},
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise UpdateError(f"loa-release {args[0]} failed: {tail[0][:300]}")


def _download(http: httpx.Client, url: str, out: Path, expected: DistFile) -> None:
    import httpx

    digest = hashlib.sha256()
    try:
        with http.stream("GET", url) as resp, out.open("wb") as fh:
            resp.raise_for_status()
            for chunk in resp.iter_bytes(1 << 16):
                digest.update(chunk)
                fh.write(chunk)
    except (httpx.HTTPError, OSError) as exc:
        raise UpdateError(f"cannot fetch {expected.name}: {exc}") from None
    if digest.hexdigest() != expected.sha256:
        raise UpdateError(f"{expected.name} does not match the signed manifest")
