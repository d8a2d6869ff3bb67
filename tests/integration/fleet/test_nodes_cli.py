"""``loa nodes``: provisioning from the command line, with clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.commands.nodes import slugify
from controller.config import ControllerSettings
from controller.db.models import Zone
from controller.services.container import Controller

pytestmark = pytest.mark.integration


def loa(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    env["LOA_DATA_DIR"] = str(tmp_path / "ctl")
    if "LOA_DATABASE_URL" in os.environ:  # the PostgreSQL pass gives each test its database
        env["LOA_DATABASE_URL"] = os.environ["LOA_DATABASE_URL"]
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "nodes", *args], env=env, capture_output=True, text=True
    )


def test_slugify_vietnamese_names() -> None:
    assert slugify("Loa nhà văn hóa Đồng An") == "loa-nha-van-hoa-dong-an"
    assert slugify("  Bản Khe Ngọ #2 ") == "ban-khe-ngo-2"


def test_add_list_token_revoke(tmp_path: Path) -> None:
    ctl = Controller.build(ControllerSettings(data_dir=tmp_path / "ctl"))
    with ctl.sessions.begin() as s:
        s.add(Zone(id="ban-dong-an", name="Bản Đồng An", created_at=datetime.now(UTC)))
    ctl.engine.dispose()

    added = loa(tmp_path, "add", "--zone", "ban-dong-an", "--name", "Loa nhà văn hóa Đồng An")
    assert added.returncode == 0, added.stderr
    out = json.loads(added.stdout)
    assert out["node_id"] == "loa-nha-van-hoa-dong-an" and len(out["enrol_token"]) >= 20

    listed = [json.loads(line) for line in loa(tmp_path, "list").stdout.splitlines()]
    assert listed[0]["name"] == "Loa nhà văn hóa Đồng An" and listed[0]["enrolled"] is False

    default = datetime.fromisoformat(out["expires_at"]) - datetime.now(UTC)
    assert 71.9 * 3600 < default.total_seconds() <= 72 * 3600  # 72 h unless --ttl
    token = loa(tmp_path, "token", out["node_id"], "--ttl", "2h")
    assert token.returncode == 0, token.stderr
    ttl = datetime.fromisoformat(json.loads(token.stdout)["expires_at"]) - datetime.now(UTC)
    assert 1.9 * 3600 < ttl.total_seconds() <= 2 * 3600
    bad_ttl = loa(tmp_path, "token", out["node_id"], "--ttl", "forever")
    assert bad_ttl.returncode == 2 and "not a duration" in bad_ttl.stderr
    assert json.loads(loa(tmp_path, "revoke", out["node_id"]).stdout)["revoked"] is True

    dup = loa(tmp_path, "add", "--zone", "ban-dong-an", "--name", "Loa nhà văn hóa Đồng An")
    assert dup.returncode == 2 and "already exists" in dup.stderr
    bad = loa(tmp_path, "add", "--zone", "nowhere", "--name", "x")
    assert bad.returncode == 2 and "unknown zone 'nowhere'" in bad.stderr
    bad_id = loa(tmp_path, "add", "--zone", "ban-dong-an", "--name", "x", "--id", "Bad/Id")
    assert bad_id.returncode == 2 and "invalid id" in bad_id.stderr
