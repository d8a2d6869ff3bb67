"""multimedia: internal announcements (citizens' replay), bulletins in several languages

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 18:30:00

Announcements are public on the citizens' replay page and feed unless an operator marks one
``internal``; existing rows stay public (the server default). A zone may say which
languages it airs in which order; an announcement may carry recordings in other languages
(variants) and their joined files per language order (mixes).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("announcements") as batch:
        batch.add_column(
            sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("zones") as batch:
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=True))
    _recordings_table(
        "announcement_variants",
        "language",
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
    )
    _recordings_table(
        "announcement_mixes",
        "languages",
        sa.Column("languages", sa.String(200), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
    )


def _recordings_table(name: str, unique: str, *columns: sa.Column[object]) -> None:
    """A table of recordings of an announcement, one per ``unique`` value."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "announcement_id",
            sa.Integer(),
            sa.ForeignKey("announcements.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("media_sha256", sa.String(64), sa.ForeignKey("media.sha256"), nullable=False),
        *columns,
        sa.UniqueConstraint("announcement_id", unique, name=_UNIQUE[name]),
    )
    op.create_index(f"ix_{name}_announcement_id", name, ["announcement_id"])


_UNIQUE = {
    "announcement_variants": "uq_announcement_variant_language",
    "announcement_mixes": "uq_announcement_mix_languages",
}


def downgrade() -> None:
    op.drop_table("announcement_mixes")
    op.drop_table("announcement_variants")
    with op.batch_alter_table("zones") as batch:
        batch.drop_column("languages")
    with op.batch_alter_table("announcements") as batch:
        batch.drop_column("internal")
