"""The Alembic migrations create exactly what the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from controller.db.engine import make_engine
from controller.db.migrate import upgrade
from controller.db.models import Base


def test_migrations_match_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    upgrade(url)  # idempotent
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_media_uses_are_indexed_for_rows_written_before_them(tmp_path: Path) -> None:
    """Migration 0018 finds the slides, programme-entry files and play-now items that older
    rows name inside JSON, so upgrading never hides them from the nodes that play them."""
    import json

    from alembic import command
    from sqlalchemy import text

    from controller.db.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), "0017")
    engine = make_engine(url)
    slide = {"slides": [{"image": {"sha256": "a" * 64, "ext": "png", "size": 1}}]}
    spec = {"kind": "stream", "fallback": {"sha256": "b" * 64}, "targets": {"zones": ["x"]}}
    item = {"item": {"media": {"sha256": "c" * 64, "alternatives": [{"sha256": "d" * 64}]}}}
    now = "2026-12-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO announcements (id, kind, title, duration_s, priority, repeat, start,"
                " created_at, level, origin, approval, internal, visual) VALUES (7, 'tts', '',"
                " 1, 2, 1, :now, :now, 'normal', 'own', 'not_required', 0, :visual)"
            ),
            {"now": now, "visual": json.dumps(slide)},
        )
        conn.execute(
            text(
                "INSERT INTO schedule_entries (id, kind, title, priority, created_seq, spec,"
                " created_at, updated_at) VALUES ('vov', 'stream', 'VOV', 2, 1, :spec, :now, :now)"
            ),
            {"now": now, "spec": json.dumps(spec)},
        )
        conn.execute(
            text(
                "INSERT INTO commands (id, action, node_id, payload, issued_at, expires_at)"
                " VALUES ('c1', 'play_now', 'n1', :payload, :now, :now)"
            ),
            {"now": now, "payload": json.dumps({"payload": item})},
        )
    upgrade(url)
    with engine.connect() as conn:
        rows = set(conn.execute(text("SELECT kind, ref, substr(sha256, 1, 1) FROM media_uses")))
    assert rows == {
        ("slide", "7", "a"),
        ("schedule", "vov", "b"),
        ("command", "c1", "c"),
        ("command", "c1", "d"),
    }
