"""The agent-dist folder the controller serves, and its signed manifests.

Layout (``LOA_AGENT_DIST_DIR``, default ``<data_dir>/agent-dist``)::

    releases/<version>/loaxa_agent-<version>-py3-none-any.whl   built by `loa agent-dist build`
    releases/<version>/requirements.lock                       the hashed lock (deploy/agent)
    releases/<version>/loa-release.sh                          install/switch/supervise/rollback
    releases/<version>/loa-agent.service                       the systemd unit
    releases/<version>/timesync.sh                             clock sync set-up (installer)
    releases/<version>/install.sh                              served as /agent/install.sh
    wheels/*.whl                                               operator's offline wheels

A wheel in ``wheels/`` whose name and version match a pin of the lock is listed in every
manifest and its hash is added to the served lock, so a node installs with
``--no-index --find-links`` (villages without a route to the package index, 32-bit Pi OS
wheels from piwheels). Other wheels are ignored (and named in the log).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path

from controller.agentdist.lock import file_sha256, parse_lock, render_lock, unmatched_wheels
from controller.agentdist.lock import with_wheels as lock_with_wheels
from controller.agentdist.wheel import wheel_name
from protocol.agent_dist import VERSION_RE, AgentManifest, DistFile, FileRole
from protocol.signing import Signer

log = logging.getLogger(__name__)

LOCK = "requirements.lock"
TOOL = "loa-release.sh"
UNIT = "loa-agent.service"
TIMESYNC = "timesync.sh"  # clock sync set-up, run once by the installer
INSTALLER = "install.sh"


class DistNotFound(LookupError):
    """No such release or file in the agent-dist folder."""


class AgentDist:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._hashes: dict[tuple[Path, int, int], str] = {}

    def release_dir(self, version: str) -> Path:
        if not VERSION_RE.match(version):
            raise DistNotFound(f"bad version {version!r}")
        path = self.root / "releases" / version
        if not (path / wheel_name(version)).is_file():
            raise DistNotFound(f"no agent release {version!r} on this controller")
        return path

    def versions(self) -> list[str]:
        releases = self.root / "releases"
        if not releases.is_dir():
            return []
        return sorted(
            p.name
            for p in releases.iterdir()
            if VERSION_RE.match(p.name) and (p / wheel_name(p.name)).is_file()
        )

    def _sha(self, path: Path) -> str:
        st = path.stat()
        key = (path, st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._hashes.get(key)
        if cached is None:
            cached = file_sha256(path)
            with self._lock:
                self._hashes[key] = cached
        return cached

    def offline_wheels(self) -> dict[str, Path]:
        folder = self.root / "wheels"
        if not folder.is_dir():
            return {}
        return {p.name: p for p in sorted(folder.glob("*.whl")) if p.is_file()}

    def served_lock(self, version: str) -> bytes:
        """The release's lock plus the hashes of the matching offline wheels."""
        pins = parse_lock((self.release_dir(version) / LOCK).read_text(encoding="utf-8"))
        wheels = {name: self._sha(path) for name, path in self.offline_wheels().items()}
        header = f"Agent {version}: pinned, hashed requirements (served by the controller)"
        return render_lock(lock_with_wheels(pins, wheels), header).encode()

    def file(self, version: str, name: str) -> bytes | Path:
        """A release file (the lock as served), or raise ``DistNotFound``."""
        if name == LOCK:
            return self.served_lock(version)
        allowed = {wheel_name(version), TOOL, UNIT, TIMESYNC, INSTALLER}
        path = self.release_dir(version) / name
        if name not in allowed or not path.is_file():
            raise DistNotFound(f"no file {name!r} in agent release {version}")
        return path

    def wheel(self, name: str) -> Path:
        path = self.offline_wheels().get(name)
        if path is None:
            raise DistNotFound(f"no offline wheel {name!r}")
        return path

    def manifest(self, version: str, signer: Signer, now: datetime) -> bytes:
        """The signed manifest of one release (hashes of exactly what is served)."""
        rel = self.release_dir(version)
        files: list[DistFile] = []

        def add(name: str, role: FileRole, path: str, data: bytes | Path) -> None:
            if isinstance(data, Path):
                sha, size = self._sha(data), data.stat().st_size
            else:
                from hashlib import sha256

                sha, size = sha256(data).hexdigest(), len(data)
            files.append(DistFile(name=name, role=role, path=path, sha256=sha, size=size))

        prefix = f"files/{version}"
        whl = wheel_name(version)
        add(whl, "agent", f"{prefix}/{whl}", rel / whl)
        lock = self.served_lock(version)
        add(LOCK, "lock", f"{prefix}/{LOCK}", lock)
        add(TOOL, "tool", f"{prefix}/{TOOL}", rel / TOOL)
        if (rel / UNIT).is_file():
            add(UNIT, "unit", f"{prefix}/{UNIT}", rel / UNIT)
        if (rel / TIMESYNC).is_file():
            add(TIMESYNC, "setup", f"{prefix}/{TIMESYNC}", rel / TIMESYNC)
        wheels = self.offline_wheels()
        skipped = unmatched_wheels(parse_lock(lock.decode()), wheels)
        if skipped:
            log.warning("offline wheels matching no pin of the %s lock: %s", version, skipped)
        for name, path in wheels.items():
            if name not in skipped:
                add(name, "wheel", f"wheels/{name}", path)
        manifest = AgentManifest(version=version, generated_at=now, files=files)
        return signer.sign(manifest)
