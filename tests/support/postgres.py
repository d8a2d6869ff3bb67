"""Empty databases on the test PostgreSQL cluster: one per test, per module, or a second one
for a module that builds two controllers (the cluster goes with everything on it)."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine, text


def create_database(admin_url: str, prefix: str = "t") -> str:
    """A fresh, empty database beside ``admin_url``'s (from template0); its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    finally:
        admin.dispose()
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


def drop_database(admin_url: str, url: str) -> None:
    """Drop a database made by :func:`create_database`, closing whoever still holds it."""
    name = url.rsplit("/", 1)[1]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def sibling_database_url() -> str | None:
    """On the PostgreSQL pass: a fresh, empty database beside the one ``LOA_DATABASE_URL``
    names (the throwaway cluster is removed with everything on it at the end of the run).
    Otherwise None: each controller keeps the SQLite file in its own data dir."""
    current = os.environ.get("LOA_DATABASE_URL", "")
    if os.environ.get("LOA_TEST_POSTGRES") != "1" or not current.startswith("postgresql"):
        return None
    return create_database(f"{current.rsplit('/', 1)[0]}/postgres", "s")
