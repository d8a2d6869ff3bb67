"""The controller serves the agent: the documented one-line install, run for real.

A release built from this tree, served over HTTPS with the private CA; the served
``install.sh`` piped into ``sh`` installs into a sandbox prefix (``--prefix --no-systemd``)
from the controller only (``--no-index`` with the controller's offline wheels and
``--require-hashes``), enrols with the token, and the installed agent — supervised by
``loa-release run`` as under systemd — connects over MQTT/TLS and plays an announcement
(``tap`` player: one JSON line per start). A wheel that does not match the signed manifest
and a token pinning another key or CA are refused before anything is installed.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.processes import wait_until
from support.served_controller import ServedController

from controller.agentdist.wheel import wheel_name
from protocol.agent_dist import AgentManifest
from protocol.enrol_token import EnrolToken, b64url
from protocol.signing import Verifier

from .conftest import NodeAgent, Pki, api, clean_env, new_node, run_installer, wait_version

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_manifest_is_signed_and_names_what_is_served(
    served: ServedController, pki: Pki, dist: tuple[Path, Path]
) -> None:
    with api(served, pki) as client:
        raw = client.get("/agent/manifest.json")
        assert raw.status_code == 200
        manifest = Verifier.from_b64([served.ctl.signer.public_key_b64]).verify(
            AgentManifest, raw.content
        )
        assert manifest.version == "0.1.0"
        for f in manifest.files:
            body = client.get(f"/agent/{f.path}")
            assert body.status_code == 200, f.path
            import hashlib

            assert hashlib.sha256(body.content).hexdigest() == f.sha256, f.name
        assert manifest.offline_wheels, "the operator's wheels are listed for offline installs"
        assert client.get("/agent/9.9.9/manifest.json").status_code == 404
        assert client.get("/agent/files/0.1.0/../../keys").status_code == 404
    # the wheel carries the agent only
    import zipfile

    names = zipfile.ZipFile(dist[0] / "releases" / "0.1.0" / wheel_name("0.1.0")).namelist()
    tops = {n.split("/")[0] for n in names if ".dist-info" not in n}
    assert tops == {"agent", "protocol"}  # nothing of the controller, cli or load harness


def test_served_installer_installs_enrols_and_plays(
    tmp_path: Path, served: ServedController, pki: Pki
) -> None:
    token = new_node(served, pki, "loa-1")
    prefix = tmp_path / "node"
    r = run_installer(served, pki, token, prefix)
    assert r.returncode == 0, r.stdout + r.stderr
    assert os.readlink(prefix / "current") == "releases/0.1.0"
    config = prefix / "etc" / "agent.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    # the node runs the installed release, which holds no controller stack
    probe = subprocess.run(
        [str(prefix / "current" / "bin" / "python"), "-I", "-c",
         "import agent, agent._version as v, importlib.util as u; "
         "print(agent.__file__, v.VERSION, u.find_spec('fastapi'), u.find_spec('controller'))"],
        env=clean_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    where, version, fastapi, controller = probe.stdout.split()
    assert where.startswith(str(prefix / "current")) and version == "0.1.0"
    assert fastapi == "None" and controller == "None"

    node = NodeAgent(prefix)
    node.start()
    try:
        wait_version(served, node, "0.1.0", 60)
        start = datetime.now(UTC) + timedelta(seconds=15)  # render + publish + fetch, loaded CI
        body = {"text": "Thông báo thử loa.", "targets": ["loa-1"], "start": start.isoformat()}
        with api(served, pki) as client:
            r2 = client.post("/api/v1/announcements", json=body)
            assert r2.status_code in (200, 201), r2.text
        tap = prefix / "var" / "agent" / "tap.jsonl"
        wait_until(lambda: tap.exists() and tap.read_text().strip(), 60)
        played = json.loads(tap.read_text().splitlines()[0])
        # the announcement's speech, from the node's own cache, at its scheduled second
        # the controller lists an Opus rendition beside the MP3 and the agent prefers it
        assert played["kind"] == "tts" and played["media"].endswith(".opus"), played
        assert played["offset_s"] == 0, played  # from its beginning: it was not late
        assert played["media"].startswith(str(prefix / "var" / "agent" / "media")), played
        at = datetime.fromisoformat(played["started_at"])
        assert abs((at - start).total_seconds()) < 1.0, (at, start)
    finally:
        node.stop()


def test_a_wheel_that_does_not_match_the_manifest_is_refused(
    tmp_path: Path, served: ServedController, pki: Pki, dist: tuple[Path, Path]
) -> None:
    """The file served differs from the one the signed manifest names (same size and mtime,
    so the controller's hash cache still vouches for the original): refused, nothing run."""
    token = new_node(served, pki, "loa-1")
    wheel = dist[0] / "releases" / "0.1.0" / wheel_name("0.1.0")
    original = wheel.read_bytes()
    st = wheel.stat()
    with api(served, pki) as client:
        assert client.get("/agent/manifest.json").status_code == 200  # hashes cached
    try:
        tampered = bytearray(original)
        tampered[len(tampered) // 2] ^= 0xFF
        wheel.write_bytes(bytes(tampered))
        os.utime(wheel, ns=(st.st_atime_ns, st.st_mtime_ns))
        prefix = tmp_path / "node"
        r = run_installer(served, pki, token, prefix)
    finally:
        wheel.write_bytes(original)
        os.utime(wheel, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert r.returncode != 0
    assert "does not match the signed manifest" in r.stderr
    assert not (prefix / "current").exists() and not (prefix / "releases").exists()


@pytest.mark.parametrize("part", ["key_pin", "ca_pin"])
def test_a_token_pinning_another_controller_is_refused(
    tmp_path: Path, served: ServedController, pki: Pki, part: str
) -> None:
    token = EnrolToken.parse(new_node(served, pki, "loa-1"))
    other = b64url(b"\x01" * 32)
    forged = EnrolToken(token.node_id, token.secret,
                        other if part == "key_pin" else token.key_pin,
                        other if part == "ca_pin" else token.ca_pin)  # fmt: skip
    prefix = tmp_path / "node"
    r = run_installer(served, pki, str(forged), prefix)
    assert r.returncode != 0
    assert "does not match the pin in the token" in r.stderr, r.stderr
    assert not (prefix / "releases").exists()
