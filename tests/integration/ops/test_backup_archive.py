"""``loa backup`` archives: what they hold, and every way a damaged one is refused before
anything is written. Runs on PostgreSQL too (LOA_TEST_POSTGRES=1: pg_dump / pg_restore)."""

from __future__ import annotations

import io
import json
import os
import tarfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from controller.config import ControllerSettings
from controller.db.models import Node, PublishedPlaylist, Zone
from controller.ops.backup import BackupError, create_backup
from controller.ops.restore import STALE_PREFIX, restore_backup, verify_archive
from controller.services.container import Controller

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def second_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """An empty database to restore into (PostgreSQL runs), else None (SQLite in data dir)."""
    if os.environ.get("LOA_TEST_POSTGRES") != "1":
        yield None
        return
    server: str = request.getfixturevalue("postgres_server")
    name = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def source(tmp_path: Path) -> ControllerSettings:
    settings = ControllerSettings(data_dir=tmp_path / "src", tts_engine_order=["espeak-ng"])
    ctl = Controller.build(settings)  # migrations, signing key; no MQTT needed
    try:
        ctl.renderer.render_text("Kính thưa bà con")
        with ctl.sessions.begin() as session:
            session.add(Zone(id="xa-a", name="Xã A", kind="xã", created_at=NOW))
            session.flush()
            session.add(Node(id="n-1", name="N 1", zone_id="xa-a", created_at=NOW))
            session.flush()
            session.add(
                PublishedPlaylist(
                    node_id="n-1", version=1_700_000_000_000, content_hash="a" * 64,
                    item_count=1, payload="{}", published_at=NOW,
                )
            )  # fmt: skip
    finally:
        ctl.stop()
    return settings


def test_backup_then_restore_round_trip(
    tmp_path: Path, source: ControllerSettings, second_database: str | None
) -> None:
    archive = tmp_path / "b.tar"
    result = create_backup(source, archive, NOW)
    assert archive.stat().st_mode & 0o777 == 0o600
    manifest = verify_archive(archive)
    names = {f["path"] for f in manifest["files"]}
    assert "data/keys/playlist-signing.pem" in names
    assert any(n.startswith("data/media/") and n.endswith(".mp3") for n in names)
    assert any(n.startswith("db/") for n in names)
    assert not any(n.endswith(("-wal", "-shm")) for n in names)
    assert manifest["max_playlist_version"] == 1_700_000_000_000
    assert result.revision == manifest["revision"] and result.revision

    target = ControllerSettings(
        data_dir=tmp_path / "dst", database_url=second_database, tts_engine_order=["espeak-ng"]
    )
    restored = restore_backup(target, archive, NOW + timedelta(minutes=1))
    assert restored.republish_nodes == 1
    key = "keys/playlist-signing.pem"
    assert (target.data_dir / key).read_bytes() == (source.data_dir / key).read_bytes()
    assert (target.data_dir / key).stat().st_mode & 0o077 == 0
    ctl = Controller.build(target)
    try:
        with ctl.sessions() as session:
            row = session.get(PublishedPlaylist, "n-1")
            assert row is not None and row.version == 1_700_000_000_000
            assert row.content_hash == STALE_PREFIX + "a" * 64  # republished on the next pass
        again = ctl.renderer.render_text("Kính thưa bà con")
        assert again.cached  # the media store and its index came back
    finally:
        ctl.stop()


def _rewrite(archive: Path, out: Path, change: str) -> None:
    """A copy of ``archive`` damaged in one way."""
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()  # type: ignore[union-attr]
            if change == "flip" and m.name.startswith("data/media/") and m.name.endswith(".mp3"):
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            if change == "drop" and m.name.startswith("db/"):
                continue
            if change == "evil-manifest" and m.name == "manifest.json":
                manifest = json.loads(data)
                manifest["files"][0]["path"] = "../../etc/passwd"
                data = json.dumps(manifest).encode()
            info = tarfile.TarInfo(m.name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
        if change == "extra":
            info = tarfile.TarInfo("data/keys/extra.key")
            info.size = 3
            dst.addfile(info, io.BytesIO(b"bad"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("flip", "checksum mismatch"),
        ("drop", "missing from the archive"),
        ("extra", "not in the manifest"),
        ("evil-manifest", "unsafe path"),
        ("truncate", "cannot be read"),
    ],
)
def test_damaged_archives_are_refused_before_writing(
    tmp_path: Path, source: ControllerSettings, change: str, reason: str
) -> None:
    archive = tmp_path / "b.tar"
    create_backup(source, archive, NOW)
    bad = tmp_path / "bad.tar"
    if change == "truncate":
        bad.write_bytes(archive.read_bytes()[: archive.stat().st_size // 3])
    else:
        _rewrite(archive, bad, change)
    target = ControllerSettings(data_dir=tmp_path / "dst")
    with pytest.raises(BackupError, match=reason):
        restore_backup(target, bad, NOW + timedelta(minutes=1))
    assert not target.data_dir.exists()
    assert not list(tmp_path.glob(".loa-restore-*"))


def test_restore_refuses_a_used_target_and_a_clock_behind(
    tmp_path: Path, source: ControllerSettings
) -> None:
    archive = tmp_path / "b.tar"
    create_backup(source, archive, NOW)
    with pytest.raises(BackupError, match=r"clock .* is behind the backup"):
        restore_backup(ControllerSettings(data_dir=tmp_path / "d1"), archive, NOW - timedelta(1))
    used = tmp_path / "d2"
    used.mkdir()
    (used / "something").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(ControllerSettings(data_dir=used), archive, NOW + timedelta(1))
