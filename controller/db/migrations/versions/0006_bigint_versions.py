"""playlist versions are epoch milliseconds: 64-bit columns

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 03:35:00

PostgreSQL's INTEGER is 32-bit, so every playlist publish failed there with "integer out of
range" (SQLite stores any integer, which hid it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("published_playlists") as batch:
        batch.alter_column(
            "version", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False
        )
    with op.batch_alter_table("playback_events") as batch:
        batch.alter_column(
            "playlist_version",
            type_=sa.BigInteger(),
            existing_type=sa.Integer(),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("playback_events") as batch:
        batch.alter_column(
            "playlist_version",
            type_=sa.Integer(),
            existing_type=sa.BigInteger(),
            existing_nullable=True,
        )
    with op.batch_alter_table("published_playlists") as batch:
        batch.alter_column(
            "version", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False
        )
