"""Upgrades from every released schema with data in it, and a downgrade refused.

For each past revision a fixture database is made in the test (Alembic upgrade to that
revision, then rows in every table, generated from the schema *as it was then*), upgraded to
head, and must keep every row, read back through today's models, and match them exactly.
Runs on PostgreSQL too with LOA_TEST_POSTGRES=1 (each test gets a fresh database).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    create_engine,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session

from controller.db.engine import make_engine
from controller.db.migrate import SchemaTooNew, alembic_config, current_revisions, upgrade
from controller.db.models import Base

pytestmark = pytest.mark.integration
ROWS = 2
WHEN = datetime(2026, 3, 1, 7, 30, tzinfo=UTC)


def released_revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def database_url(tmp_path: Path) -> str:
    return os.environ.get("LOA_DATABASE_URL") or f"sqlite:///{tmp_path / 'fixture.sqlite3'}"


def _value(table: Table, column: Any, i: int, parents: dict[tuple[str, str], list[Any]]) -> Any:
    """A plausible value for ``column`` of row ``i`` (distinct per row, FKs to real parents)."""
    for fk in column.foreign_keys:
        ref = (fk.column.table.name, fk.column.name)
        if parents.get(ref):
            return parents[ref][i % len(parents[ref])]
        return None
    kind = column.type
    if isinstance(kind, Boolean):
        return i % 2 == 0
    if isinstance(kind, BigInteger):
        return 1_780_000_000_000 + i  # playlist versions are epoch milliseconds
    if isinstance(kind, Integer):
        return i + 1
    if isinstance(kind, Float | Numeric):
        return 10.5 + i
    if isinstance(kind, DateTime):
        return WHEN
    if isinstance(kind, Date):
        return WHEN.date()
    if isinstance(kind, JSON):
        return ["xa-a"] if column.name.endswith("s") else {"k": i}
    if isinstance(kind, LargeBinary):
        return b"\x00blob" + bytes([i])
    length = getattr(kind, "length", None) or 40
    return f"{column.name[:8]}-{i}"[:length]


def fill_every_table(url: str) -> dict[str, int]:
    """Rows in every table of the schema as it is now in the database; returns the counts."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    parents: dict[tuple[str, str], list[Any]] = {}
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name in ("alembic_version", "scheduler_jobs"):
                continue
            rows = []
            for i in range(ROWS):
                row = {}
                for column in table.columns:
                    single_int_pk = len(table.primary_key.columns) == 1 and isinstance(
                        column.type, Integer
                    )
                    if column.primary_key and single_int_pk and not column.foreign_keys:
                        continue  # autoincrement id
                    row[column.name] = _value(table, column, i, parents)
                rows.append(row)
            conn.execute(insert(table), rows)
            for column in table.columns:
                if isinstance(column.type, JSON | LargeBinary):
                    continue  # never a foreign key target (and PostgreSQL cannot sort json)
                parents[(table.name, column.name)] = list(
                    conn.execute(select(column).order_by(column)).scalars()
                )
            counts[table.name] = ROWS
    engine.dispose()
    return counts


@pytest.mark.parametrize("revision", released_revisions())
def test_upgrade_from_every_released_schema_with_data(tmp_path: Path, revision: str) -> None:
    url = database_url(tmp_path)
    command.upgrade(alembic_config(url), revision)
    assert current_revisions(url) == (revision,)
    counts = fill_every_table(url)
    assert counts, "the fixture database has rows"

    upgrade(url)  # what the controller does at start
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            for table, count in counts.items():
                if conn.dialect.has_table(conn, table):
                    kept = conn.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar()
                    assert kept == count, f"{table}: {kept} rows after the upgrade from {revision}"
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], diff
        # every row reads back through today's models (types, time zones, JSON)
        with Session(engine) as session:
            for mapper in Base.registry.mappers:
                model = mapper.class_
                if mapper.local_table.name in counts:
                    rows = session.scalars(select(model)).all()
                    assert len(rows) == counts[mapper.local_table.name]
                    assert session.scalar(select(func.count()).select_from(model)) == len(rows)
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(url))
    assert current_revisions(url) == (script.get_current_head(),)


def test_a_newer_database_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    url = database_url(tmp_path)
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaTooNew, match="revision 9999, which this release does not know"):
        upgrade(url)
    # `loa controller` refuses to start, with that message and a non-zero exit
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    env |= {"LOA_DATA_DIR": str(tmp_path / "data"), "LOA_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "controller"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "refusing to start" in done.stderr and "Downgrades are not supported" in done.stderr
