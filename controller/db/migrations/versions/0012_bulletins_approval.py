"""bulletin levels, the upstream inbox and approval before air

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 18:10:00

Bulletins come from zones above a commune at three levels (normal, priority, emergency) and
land in each target commune's inbox (one ``bulletin_deliveries`` row per commune). Communes
that set ``needs_approval`` hold operators' items until an approver approves them; existing
announcements are ``not_required`` so nothing already scheduled stops playing. Emergencies
are never held and are flagged for review afterwards (existing ones count as reviewed).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("zones") as batch:
        batch.add_column(
            sa.Column("needs_approval", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "bulletins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("media_sha256", sa.String(64), sa.ForeignKey("media.sha256"), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("upstream_alert_id", sa.Integer(), nullable=True),
        sa.Column("emergency_id", sa.String(32), nullable=True),
        sa.Column(
            "source_zone_id",
            sa.String(64),
            sa.ForeignKey("zones.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
    )
    with op.batch_alter_table("bulletins") as batch:
        batch.create_index("ix_bulletins_source_zone_id", ["source_zone_id"])
        batch.create_index("ix_bulletins_created_at", ["created_at"])
    with op.batch_alter_table("announcements") as batch:
        batch.add_column(sa.Column("level", sa.String(10), nullable=False, server_default="normal"))
        batch.add_column(sa.Column("origin", sa.String(10), nullable=False, server_default="own"))
        batch.add_column(
            sa.Column("approval", sa.String(10), nullable=False, server_default="not_required")
        )
        batch.add_column(sa.Column("approved_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("approved_at", TS, nullable=True))
        batch.add_column(sa.Column("approval_comment", sa.Text(), nullable=True))
        batch.add_column(sa.Column("submitted_at", TS, nullable=True))
        batch.add_column(sa.Column("bulletin_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_announcements_bulletin_id",
            "bulletins",
            ["bulletin_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_announcements_bulletin_id", ["bulletin_id"])
    op.create_table(
        "bulletin_deliveries",
        sa.Column(
            "bulletin_id",
            sa.Integer(),
            sa.ForeignKey("bulletins.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "zone_id",
            sa.String(64),
            sa.ForeignKey("zones.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column(
            "announcement_id",
            sa.Integer(),
            sa.ForeignKey("announcements.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("acted_by", sa.String(100), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    with op.batch_alter_table("bulletin_deliveries") as batch:
        batch.create_index("ix_bulletin_deliveries_zone_state", ["zone_id", "state"])
    with op.batch_alter_table("emergencies") as batch:
        batch.add_column(
            sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("reviewed_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("reviewed_at", TS, nullable=True))
        batch.add_column(sa.Column("review_comment", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("emergencies") as batch:
        batch.drop_column("review_comment")
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewed_by")
        batch.drop_column("needs_review")
    op.drop_table("bulletin_deliveries")
    with op.batch_alter_table("announcements") as batch:
        batch.drop_index("ix_announcements_bulletin_id")
        batch.drop_constraint("fk_announcements_bulletin_id", type_="foreignkey")
        for col in (
            "bulletin_id",
            "submitted_at",
            "approval_comment",
            "approved_at",
            "approved_by",
            "approval",
            "origin",
            "level",
        ):
            batch.drop_column(col)
    op.drop_table("bulletins")
    with op.batch_alter_table("zones") as batch:
        batch.drop_column("needs_approval")
