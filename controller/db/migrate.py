"""Run Alembic migrations programmatically (the controller upgrades on start).

A database at a revision this code does not know was upgraded by a newer release; starting
the older code on it would run with a schema it does not understand, so it is refused with
words an operator can act on (there are no downgrades: restore a backup instead).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaTooNew(RuntimeError):
    """The database was upgraded by a newer release than this one."""


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def current_revisions(database_url: str) -> tuple[str, ...]:
    """The revision(s) stamped in the database; empty for a new database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return tuple(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def check_schema_known(database_url: str) -> None:
    """Raise ``SchemaTooNew`` if the database is at a revision this code does not have."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = [rev for rev in current_revisions(database_url) if rev not in known]
    if unknown:
        raise SchemaTooNew(
            f"the database is at schema revision {', '.join(unknown)}, which this release "
            f"does not know (its newest is {script.get_current_head()}): it was upgraded by a "
            "newer Loa xã. Downgrades are not supported: run the newer release again, or "
            "restore a backup taken before the upgrade (loa restore)."
        )


def upgrade(database_url: str) -> None:
    check_schema_known(database_url)
    command.upgrade(alembic_config(database_url), "head")
