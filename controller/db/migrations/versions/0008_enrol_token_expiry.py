"""enrolment tokens expire

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01 15:00:00

A token that never expires is a standing credential: one found in an old e-mail or a photo
of the install sheet could still enrol an impostor months later. Tokens issued before this
migration have no expiry recorded and are refused (issue a new one with ``loa nodes token``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.add_column(
            sa.Column("enrol_token_expires_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.drop_column("enrol_token_expires_at")
