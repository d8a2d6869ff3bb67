"""``loa backup``: the database, the media store and the keys in one archive, while running.

The archive is a plain tar (media is already compressed audio) holding ``manifest.json``
and every file with its size and SHA-256, so ``loa restore`` can refuse a damaged copy
before touching anything. SQLite is copied with its online backup API (a consistent
snapshot while the ingest keeps writing); PostgreSQL with ``pg_dump -Fc``. Media files are
content-addressed and never rewritten, so copying them while running is safe too.

The archive holds the playlist-signing key and the panel session key: it is written 0600.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from controller.config import ControllerSettings

FORMAT = "loa-backup/1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "db/loa.sqlite3"
PGDUMP_MEMBER = "db/loa.pgdump"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    files: int
    bytes: int
    revision: str | None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection flags for ``pg_dump``/``pg_restore`` (the password goes in the
    environment, never on a command line other users can read)."""
    args = ["-d", url.database or "postgres"]
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def database_facts(database_url: str) -> dict[str, Any]:
    """The schema revision and the highest playlist version published, for the manifest."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            top = conn.execute(text("SELECT MAX(version) FROM published_playlists")).scalar()
    finally:
        engine.dispose()
    return {"revision": revision, "max_playlist_version": top}


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _dump_database(settings: ControllerSettings, staging: Path) -> tuple[str, Path]:
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"no database at {source}")
        target = staging / "loa.sqlite3"
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)  # consistent snapshot while writers go on
        finally:
            src.close()
            dst.close()
        return SQLITE_MEMBER, target
    if url.get_backend_name() == "postgresql":
        target = staging / "loa.pgdump"
        args, env = pg_args(url)
        done = subprocess.run(
            ["pg_dump", "-Fc", "--no-owner", "--no-privileges", "-f", str(target), *args],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
        return PGDUMP_MEMBER, target
    raise BackupError(f"cannot back up a {url.get_backend_name()} database")


def _data_files(settings: ControllerSettings, db_path: Path | None) -> list[tuple[str, Path]]:
    """Everything under the data dir except the live database files, as ``data/<rel>``."""
    root = settings.data_dir
    skip = set()
    if db_path is not None:
        skip = {db_path.resolve(), *(Path(f"{db_path.resolve()}{s}") for s in ("-wal", "-shm"))}
    out: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.resolve() in skip or not path.is_file() or name.endswith(".tmp"):
                continue
            out.append(("data/" + path.relative_to(root).as_posix(), path))
    return out


def _external_keys(settings: ControllerSettings) -> list[tuple[str, Path]]:
    """Keys configured outside the data dir still belong in the backup."""
    root = settings.data_dir.resolve()
    keys = {
        "keys/playlist-signing.pem": settings.resolved_signing_key_path,
        "keys/panel-session.key": settings.resolved_panel_session_key_path,
    }
    return [
        (member, path)
        for member, path in keys.items()
        if path.is_file() and not path.resolve().is_relative_to(root)
    ]


def create_backup(
    settings: ControllerSettings, output: Path, now: datetime | None = None
) -> BackupResult:
    """Write the archive to ``output`` (atomically, 0600); return what went in."""
    now = now or datetime.now(UTC)
    output.parent.mkdir(parents=True, exist_ok=True)
    url = make_url(settings.resolved_database_url)
    facts = database_facts(settings.resolved_database_url)
    with tempfile.TemporaryDirectory(prefix="loa-backup-", dir=output.parent) as tmp:
        staging = Path(tmp)
        db_member, db_file = _dump_database(settings, staging)
        db_path = _sqlite_path(url) if url.get_backend_name() == "sqlite" else None
        members = [(db_member, db_file), *_data_files(settings, db_path)]
        members += _external_keys(settings)
        files: list[dict[str, Any]] = [{"path": m, "size": 0, "sha256": ""} for m, _ in members]
        partial = staging / "archive.tar"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
            for entry, (member, path) in zip(files, members, strict=True):
                entry["sha256"], entry["size"] = _add_hashed(tar, member, path)
            manifest = {
                "format": FORMAT,
                "created_at": now.isoformat(),
                "database": "sqlite" if db_path is not None else "postgresql",
                **facts,
                "files": files,
            }
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mode = 0o600
            info.mtime = int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, output)
    total = sum(int(f["size"]) for f in files)
    return BackupResult(output, len(files), total, facts["revision"])


class _HashingReader:
    def __init__(self, fh: io.BufferedReader) -> None:
        self._fh = fh
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self.digest.update(data)
        return data


def _add_hashed(tar: tarfile.TarFile, member: str, path: Path) -> tuple[str, int]:
    """Add one file, hashing exactly the bytes written (streamed: uploads can be large)."""
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        info = tarfile.TarInfo(member)
        info.size = size
        info.mode = 0o600
        info.mtime = int(path.stat().st_mtime)
        reader = _HashingReader(fh)
        tar.addfile(info, reader)
    return reader.digest.hexdigest(), size
