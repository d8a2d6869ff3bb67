"""pronunciation dictionary: operators' words and how they are read, per province/commune

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 15:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0007"  # after 0007, the head on main at merge
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pronunciations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("written", sa.String(length=100), nullable=False),
        sa.Column("spoken", sa.String(length=300), nullable=False),
        sa.Column("scope_zone_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["scope_zone_id"], ["zones.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope_zone_id", "written", name="uq_pronunciations_scope_written"),
    )
    with op.batch_alter_table("pronunciations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pronunciations_scope_zone_id"), ["scope_zone_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pronunciations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pronunciations_scope_zone_id"))
    op.drop_table("pronunciations")
