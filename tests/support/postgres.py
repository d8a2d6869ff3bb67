"""A second database on the PostgreSQL pass, for a module that builds two controllers."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine, text


def sibling_database_url() -> str | None:
    """On the PostgreSQL pass: a fresh, empty database beside the one ``LOA_DATABASE_URL``
    names (the throwaway cluster is removed with everything on it at the end of the run).
    Otherwise None: each controller keeps the SQLite file in its own data dir."""
    current = os.environ.get("LOA_DATABASE_URL", "")
    if os.environ.get("LOA_TEST_POSTGRES") != "1" or not current.startswith("postgresql"):
        return None
    base = current.rsplit("/", 1)[0]
    name = f"s_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    finally:
        admin.dispose()
    return f"{base}/{name}"
