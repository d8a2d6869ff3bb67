"""heartbeats rolled up per node and hour

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 19:00:00

Raw heartbeats are kept for a day (the panel's chart); older ones are rolled up into one
row per node and hour (count, time heard, min/max/sum of the measured values) by the
retention job, instead of 2,880 rows per node per day for 30 days.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "heartbeat_hourly",
        sa.Column("node_id", sa.String(64), primary_key=True),
        sa.Column("hour", TS, primary_key=True),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("online_s", sa.Float(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("heartbeat_hourly")
