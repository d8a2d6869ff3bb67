"""multimedia: internal announcements (citizens' replay)

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-01 18:30:00

Announcements are public on the citizens' replay page and feed unless an operator marks one
``internal``; existing rows stay public (the server default).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("announcements") as batch:
        batch.add_column(
            sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("announcements") as batch:
        batch.drop_column("internal")
