"""The agent wheel carries only the agent, reproducibly; the lock and manifest are strict."""

from __future__ import annotations

import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.agentdist.lock import LockError, Pin, parse_lock, render_lock, with_wheels
from controller.agentdist.release import build_release
from controller.agentdist.store import AgentDist, DistNotFound
from controller.agentdist.wheel import REQUIRES, WheelBuildError, agent_files, build_wheel
from protocol.agent_dist import AgentManifest
from protocol.errors import ProtocolError
from protocol.signing import Signer, Verifier

REPO = Path(__file__).resolve().parents[3]
LOCK = REPO / "deploy" / "agent" / "requirements.lock"


def test_the_wheel_holds_the_agent_and_nothing_of_the_controller(tmp_path: Path) -> None:
    wheel = build_wheel(REPO, tmp_path, "1.2.3")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if ".dist-info" not in n}
    assert tops == {"agent", "protocol"}  # the agent's command line is agent/command.py
    assert "agent/updater.py" in names and "agent/command.py" in names
    version_file = zipfile.ZipFile(wheel).read("agent/_version.py").decode()
    assert 'VERSION = "1.2.3"' in version_file
    metadata = zipfile.ZipFile(wheel).read("loaxa_agent-1.2.3.dist-info/METADATA").decode()
    assert all(f"Requires-Dist: {r}" in metadata for r in REQUIRES)


def test_the_same_sources_give_the_same_bytes(tmp_path: Path) -> None:
    a = build_wheel(REPO, tmp_path / "a", "1.0").read_bytes()
    b = build_wheel(REPO, tmp_path / "b", "1.0").read_bytes()
    assert a == b


def test_an_agent_module_importing_the_controller_fails_the_build(tmp_path: Path) -> None:
    for part in ("agent", "protocol", "cli"):
        shutil.copytree(REPO / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "agent" / "sneaky.py").write_text(
        "def f():\n    from controller.db.models import Node\n    return Node\n"
    )
    with pytest.raises(WheelBuildError, match="controller"):
        agent_files(tmp_path)
    with pytest.raises(WheelBuildError, match="bad agent version"):
        build_wheel(REPO, tmp_path, "1.0-evil")


def test_the_repo_lock_pins_every_agent_requirement_with_hashes() -> None:
    pins = parse_lock(LOCK.read_text())
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    for requirement in map(Requirement, REQUIRES):
        pin = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(pin.version), requirement
        assert pin.hashes
    assert "cffi" in pins and "pydantic-core" in pins  # the closure, not only the top level


def test_lock_parsing_is_strict_and_wheels_join_only_their_exact_pin() -> None:
    with pytest.raises(LockError):
        parse_lock("httpx>=0.27 --hash=sha256:" + "a" * 64)  # not pinned
    with pytest.raises(LockError):
        parse_lock("httpx==0.28.1")  # no hash
    pins = {"httpx": Pin("0.28.1", {"a" * 64})}
    merged = with_wheels(pins, {"httpx-0.28.1-py3-none-any.whl": "b" * 64,
                                "httpx-0.27.0-py3-none-any.whl": "c" * 64})  # fmt: skip
    assert merged["httpx"].hashes == {"a" * 64, "b" * 64}
    assert parse_lock(render_lock(merged))["httpx"].hashes == {"a" * 64, "b" * 64}


def test_the_manifest_is_signed_and_hashes_the_served_lock(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build_release(REPO, dist, "1.0", LOCK)
    store = AgentDist(dist)
    signer = Signer.generate()
    raw = store.manifest("1.0", signer, datetime.now(UTC))
    manifest = Verifier([signer.public_key]).verify(AgentManifest, raw)
    assert {f.role for f in manifest.files} == {"agent", "lock", "tool", "unit", "setup"}
    served_lock = store.file("1.0", "requirements.lock")
    import hashlib

    assert isinstance(served_lock, bytes)
    assert manifest.file("lock").sha256 == hashlib.sha256(served_lock).hexdigest()
    with pytest.raises(ProtocolError):
        Verifier([Signer.generate().public_key]).verify(AgentManifest, raw)
    for bad in ("../keys", "2.0", "1.0/../x"):
        with pytest.raises(DistNotFound):
            store.manifest(bad, signer, datetime.now(UTC))
    with pytest.raises(DistNotFound):
        store.file("1.0", "../../keys/playlist-signing.pem")
