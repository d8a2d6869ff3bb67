"""Hole 8: secret files end up 0600 even when a looser file was already there."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from controller.auth.secret_key import load_or_create_key
from protocol.private_file import write_private
from protocol.signing import Signer

_spec = importlib.util.spec_from_file_location(
    "make_ca", Path(__file__).parents[3] / "deploy" / "tls" / "make_ca.py"
)
assert _spec is not None and _spec.loader is not None
make_ca_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_ca_module)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_write_private_tightens_an_existing_world_readable_file(tmp_path: Path) -> None:
    target = tmp_path / "keys" / "secret.key"
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_private(target, b"new")
    assert target.read_bytes() == b"new" and _mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["secret.key"]  # no temporary left


def test_make_ca_rewrites_loose_key_files_as_0600(tmp_path: Path) -> None:
    out = tmp_path / "pki"
    out.mkdir()
    for name in ("ca.key", "server.key"):
        (out / name).write_text("an older key")
        (out / name).chmod(0o644)
    make_ca_module.make_ca(out, ["localhost"])
    assert _mode(out / "ca.key") == 0o600 and _mode(out / "server.key") == 0o600


def test_signing_and_session_keys_are_tightened_when_loaded(tmp_path: Path) -> None:
    signing = tmp_path / "playlist-signing.pem"
    first = Signer.load_or_create(signing)
    assert _mode(signing) == 0o600
    signing.chmod(0o644)  # e.g. restored from a backup
    assert Signer.load_or_create(signing).public_key_b64 == first.public_key_b64
    assert _mode(signing) == 0o600
    session_key = tmp_path / "panel-session.key"
    session_key.write_bytes(os.urandom(32))
    session_key.chmod(0o640)
    load_or_create_key(session_key)
    assert _mode(session_key) == 0o600
