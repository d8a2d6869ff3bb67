"""The PostgreSQL fixture itself, and what differs from SQLite: a real server restart while
the controller ingests (clear errors, then recovery, nothing lost or half-written)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from controller.config import ControllerSettings
from controller.db.engine import make_engine
from controller.db.migrate import upgrade
from controller.db.models import PlaybackEvent

pytestmark = pytest.mark.integration


def test_fresh_database_per_test_with_all_migrations(postgres_url: str) -> None:
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.dialect.name == "postgresql"
        assert conn.scalar(select(func.count()).select_from(PlaybackEvent)) == 0
        assert conn.scalar(text("SELECT current_database()")) == postgres_url.rsplit("/", 1)[1]
    engine.dispose()


def test_second_pass_points_controllers_at_postgres(tmp_path: Path) -> None:
    """In the PostgreSQL pass, settings built by any test resolve to the per-test database."""
    settings = ControllerSettings(data_dir=tmp_path)
    if os.environ.get("LOA_TEST_POSTGRES") == "1":
        assert settings.resolved_database_url.startswith("postgresql+psycopg://")
    else:
        assert settings.resolved_database_url.startswith("sqlite:///")
