"""users remember when they last chose their own password

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 18:30:00

``password_changed_at`` is set when a user changes their own password (never by an admin's
reset or at creation). The demo admin uses it: a fresh demo asks ``admin`` to replace the
printed ``loa-demo`` password at first login, and a restarted demo with a kept data
directory leaves a password the operator chose alone instead of resetting it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_changed_at")
