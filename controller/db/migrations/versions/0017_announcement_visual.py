"""announcements carry optional visual content for e-boards

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 19:45:00

``visual`` holds what a node's screen shows while the announcement is on the air, in the
wire form of ``protocol.models.Visual`` (board text, ticker, slides by content address);
NULL is sound only, as for every existing row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("announcements") as batch:
        batch.add_column(sa.Column("visual", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("announcements") as batch:
        batch.drop_column("visual")
