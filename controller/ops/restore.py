"""``loa restore``: a ``loa backup`` archive onto a fresh data dir (and empty database).

Nothing is written before the whole archive checks out: every member must be named in the
manifest with its size and SHA-256, and nothing else may be in it. Then the files go to a
staging folder beside the data dir and are moved into place at the end.

Playlist versions must keep growing after a restore (an agent refuses an older version).
Versions are milliseconds since the epoch, at least one above the node's last, so a restored
controller only needs a clock that is not behind the old one: restore refuses a machine
whose clock is behind the backup's time. The restored "last published" records are marked
stale, so the first horizon pass republishes every node's playlist — agents that got a
newer playlist after the backup are brought back to what the restored database says.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from controller.config import ControllerSettings
from controller.ops.backup import (
    CHUNK,
    FORMAT,
    MANIFEST,
    PGDUMP_MEMBER,
    SQLITE_MEMBER,
    BackupError,
    pg_args,
)

STALE_PREFIX = "restored:"


@dataclass(frozen=True)
class RestoreResult:
    files: int
    revision: str | None
    republish_nodes: int


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == path.as_posix()


def verify_archive(archive: Path) -> dict[str, Any]:
    """The manifest, once every file in the archive matched it; else ``BackupError``."""
    try:
        with tarfile.open(archive, "r:") as tar:
            members = tar.getmembers()
            by_name = {m.name: m for m in members}
            if len(by_name) != len(members):
                raise BackupError("the archive names a file twice")
            if MANIFEST not in by_name:
                raise BackupError("no manifest.json: not a loa backup archive")
            manifest = _read_manifest(tar, by_name[MANIFEST])
            listed = {f["path"]: f for f in manifest["files"]}
            extra = sorted(set(by_name) - set(listed) - {MANIFEST})
            if extra:
                raise BackupError(f"files not in the manifest: {extra[:5]}")
            missing = sorted(set(listed) - set(by_name))
            if missing:
                raise BackupError(f"files missing from the archive: {missing[:5]}")
            for name, entry in listed.items():
                _check_member(tar, by_name[name], entry)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"the archive cannot be read ({exc}): damaged or incomplete") from None
    return manifest


def _read_manifest(tar: tarfile.TarFile, member: tarfile.TarInfo) -> dict[str, Any]:
    fh = tar.extractfile(member)
    if fh is None or member.size > 64 * 1024 * 1024:
        raise BackupError("manifest.json is not a plain file")
    try:
        manifest: dict[str, Any] = json.loads(fh.read())
    except (ValueError, UnicodeDecodeError):
        raise BackupError("manifest.json is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"unknown archive format {manifest.get('format')!r} (want {FORMAT})")
    files = manifest.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict)
        and isinstance(f.get("path"), str)
        and isinstance(f.get("size"), int)
        and isinstance(f.get("sha256"), str)
        for f in files
    ):
        raise BackupError("manifest.json has no valid file list")
    for f in files:
        if not _safe_name(f["path"]) or not f["path"].startswith(("db/", "data/", "keys/")):
            raise BackupError(f"unsafe path in the manifest: {f['path'][:200]!r}")
    return manifest


def _check_member(tar: tarfile.TarFile, member: tarfile.TarInfo, entry: dict[str, Any]) -> None:
    if not member.isfile():
        raise BackupError(f"{member.name} is not a plain file")
    if member.size != entry["size"]:
        raise BackupError(f"{member.name}: size {member.size}, manifest says {entry['size']}")
    fh = tar.extractfile(member)
    assert fh is not None  # a regular file always has a body
    digest = hashlib.sha256()
    while chunk := fh.read(CHUNK):
        digest.update(chunk)
    if digest.hexdigest() != entry["sha256"]:
        raise BackupError(f"{member.name}: checksum mismatch (the archive is corrupt)")


def _require_fresh(settings: ControllerSettings, manifest: dict[str, Any]) -> None:
    url = make_url(settings.resolved_database_url)
    backend = url.get_backend_name()
    if backend != manifest.get("database"):
        raise BackupError(
            f"the backup holds a {manifest.get('database')} database, this controller is "
            f"configured for {backend}: restore onto the same kind"
        )
    if settings.data_dir.exists() and any(settings.data_dir.iterdir()):
        raise BackupError(f"{settings.data_dir} is not empty: restore onto a fresh data dir")
    if backend == "sqlite":
        if url.database and Path(url.database).exists():
            raise BackupError(f"a database already exists at {url.database}")
        return
    engine = create_engine(settings.resolved_database_url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError("the target PostgreSQL database is not empty: restore into a new one")


def _check_clock(manifest: dict[str, Any], now: datetime) -> None:
    try:
        created = datetime.fromisoformat(str(manifest.get("created_at")))
    except ValueError:
        raise BackupError("manifest.json has no valid created_at") from None
    if now < created:
        raise BackupError(
            f"this machine's clock ({now.isoformat()}) is behind the backup's "
            f"({created.isoformat()}): playlist versions are taken from the clock and must "
            "keep increasing; set the clock (NTP) and run restore again"
        )


def restore_backup(
    settings: ControllerSettings, archive: Path, now: datetime | None = None
) -> RestoreResult:
    now = now or datetime.now(UTC)
    manifest = verify_archive(archive)
    _check_clock(manifest, now)
    _require_fresh(settings, manifest)
    target = settings.data_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".loa-restore-", dir=target.parent))
    try:
        os.chmod(staging, 0o750)  # noqa: S103 - the data dir of a service user: no "other" bits
        with tarfile.open(archive, "r:") as tar:
            for entry in manifest["files"]:
                _extract(tar, entry["path"], staging)
        _place(settings, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    stale = _mark_published_stale(settings.resolved_database_url)
    return RestoreResult(len(manifest["files"]), manifest.get("revision"), stale)


def _extract(tar: tarfile.TarFile, name: str, staging: Path) -> None:
    dest = staging / name
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    src = tar.extractfile(name)
    assert src is not None
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(src, out, CHUNK)
        out.flush()
        os.fsync(out.fileno())


def _place(settings: ControllerSettings, staging: Path) -> None:
    url = make_url(settings.resolved_database_url)
    data = staging / "data"
    data.mkdir(exist_ok=True)
    if settings.data_dir.exists():
        settings.data_dir.rmdir()  # checked empty above
    sqlite_dump = staging / SQLITE_MEMBER
    if sqlite_dump.exists():
        db_path = Path(url.database or "")
        if db_path.resolve().is_relative_to(settings.data_dir.resolve()):
            rel = db_path.resolve().relative_to(settings.data_dir.resolve())
            (data / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(sqlite_dump, data / rel)
        else:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(sqlite_dump, db_path)
    pg_dump = staging / PGDUMP_MEMBER
    if pg_dump.exists():
        _pg_restore(settings.resolved_database_url, pg_dump)
    os.replace(data, settings.data_dir)
    for member, path in (
        ("keys/playlist-signing.pem", settings.resolved_signing_key_path),
        ("keys/panel-session.key", settings.resolved_panel_session_key_path),
    ):
        key = staging / member
        if key.exists() and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.move(key, path)


def _pg_restore(database_url: str, dump: Path) -> None:
    args, env = pg_args(make_url(database_url))
    done = subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", *args, str(dump)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[:500]}")


def _mark_published_stale(database_url: str) -> int:
    """Make the next publisher pass republish every node (with a higher version)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(
                text(
                    "UPDATE published_playlists SET content_hash = :p || content_hash "
                    "WHERE content_hash NOT LIKE :like"
                ),
                {"p": STALE_PREFIX, "like": STALE_PREFIX + "%"},
            )
            return int(result.rowcount or 0)
    finally:
        engine.dispose()
