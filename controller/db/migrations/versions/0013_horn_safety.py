"""horn safety: volume caps on zones and nodes, quiet hours on zones

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 18:30:00

``volume_cap`` (0-100, NULL = no cap) on zones and nodes: a node never plays louder than the
lowest cap of itself and every zone it is in. ``quiet_hours`` on zones: daily local windows
such as ``21:30-05:00`` when only emergencies play (docs/horn-safety.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("zones") as batch:
        batch.add_column(sa.Column("volume_cap", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("quiet_hours", sa.String(200), nullable=True))
    with op.batch_alter_table("nodes") as batch:
        batch.add_column(sa.Column("volume_cap", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.drop_column("volume_cap")
    with op.batch_alter_table("zones") as batch:
        batch.drop_column("quiet_hours")
        batch.drop_column("volume_cap")
