"""A partial index of flagged check-ins, for compliance's suspicious_checkins over a city

Revision ID: 0008
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(
            "ix_checkins_flagged",
            ["member_id", "local_date"],
            unique=False,
            postgresql_where=sa.text("flags <> ''"),
            sqlite_where=sa.text("flags <> ''"),
        )


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_flagged")
