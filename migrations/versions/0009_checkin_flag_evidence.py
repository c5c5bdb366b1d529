"""The numbers behind each check-in flag, kept beside the fix for `flag_reasons`

Revision ID: 0009
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: links stored before keep NULL and their chain hashes.
    op.add_column("checkins", sa.Column("flag_evidence", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkins") as batch:
        batch.drop_column("flag_evidence")
