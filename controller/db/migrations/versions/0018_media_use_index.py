"""who may fetch a media file: every use found by index, and who made a fresh one

Revision ID: 0018_media_use_index
Revises: 0017
Create Date: 2026-12-02 01:00:00

``/media/{sha256}.{ext}`` is answered only to callers some use of the file reaches, and a
node fetches on every playlist, so each use must be found by an index: the ``media_sha256``
columns get one, and ``media_uses`` holds the uses no column names (hashes inside JSON:
slides, a programme entry's recording and relay fallback, a command's item) plus who uploaded
or previewed a file. Existing slides, programme entries and play-now commands are indexed
here; files uploaded before this revision have no recorded maker (admins still hear them).
"""

import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0018_media_use_index"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXED = (
    "announcements",
    "announcement_variants",
    "announcement_mixes",
    "bulletins",
    "emergencies",
)


def upgrade() -> None:
    for table in _INDEXED:
        op.create_index(f"ix_{table}_media_sha256", table, ["media_sha256"])
    uses = op.create_table(
        "media_uses",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(128), nullable=False),
    )
    op.create_index("ix_media_uses_sha256", "media_uses", ["sha256"])
    op.create_index("ix_media_uses_kind_ref", "media_uses", ["kind", "ref"])
    rows = list(_existing(op.get_bind()))
    if rows:
        op.bulk_insert(uses, rows)


def _existing(bind: sa.Connection) -> Iterator[dict[str, str]]:
    """The uses inside JSON of rows written before this revision."""
    # the services' own parsers, so old rows are read exactly like new ones
    from controller.services.media_uses import command_hashes, item_hashes, visual_hashes

    found: list[tuple[str, str, set[str]]] = []
    for ann_id, visual in bind.execute(
        sa.text("SELECT id, visual FROM announcements WHERE visual IS NOT NULL")
    ):
        found.append(("slide", str(ann_id), visual_hashes(_json(visual))))
    for entry_id, spec in bind.execute(sa.text("SELECT id, spec FROM schedule_entries")):
        found.append(("schedule", str(entry_id), item_hashes(_json(spec))))
    for command_id, payload in bind.execute(
        sa.text("SELECT id, payload FROM commands WHERE action IN ('play_now', 'emergency')")
    ):
        found.append(("command", str(command_id), command_hashes(payload)))
    for kind, ref, hashes in found:
        for sha in sorted(hashes):
            yield {"sha256": sha, "kind": kind, "ref": ref}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def downgrade() -> None:
    op.drop_table("media_uses")
    for table in _INDEXED:
        op.drop_index(f"ix_{table}_media_sha256", table_name=table)
