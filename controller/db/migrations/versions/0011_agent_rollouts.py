"""staged agent rollouts

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 16:00:00

A rollout sends signed ``update`` commands to canary nodes first, then in waves, and stops
itself when too large a share fails; these tables hold its progress per node.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agent_rollouts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("canary", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("max_failed_pct", sa.Float(), nullable=False),
        sa.Column("zones", sa.Text(), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
    )
    op.create_table(
        "agent_rollout_nodes",
        sa.Column(
            "rollout_id",
            sa.Integer(),
            sa.ForeignKey("agent_rollouts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("node_id", sa.String(64), primary_key=True),
        sa.Column("stage", sa.String(10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("command_id", sa.String(128), nullable=True),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("agent_rollout_nodes")
    op.drop_table("agent_rollouts")
