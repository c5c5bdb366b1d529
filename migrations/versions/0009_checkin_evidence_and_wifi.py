"""Check-in evidence: the numbers behind each flag, and Wi-Fi corroboration

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: links stored before keep NULL and their chain hashes.
    op.add_column("checkins", sa.Column("flag_evidence", sa.JSON(), nullable=True))
    op.add_column("checkins", sa.Column("wifi", sa.JSON(), nullable=True))
    op.add_column("checkins", sa.Column("wifi_match", sa.Boolean(), nullable=True))
    op.create_table(
        "village_access_points",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("bssid", sa.String(length=17), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("registered_by", sa.Integer(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["village_code"],
            ["villages.code"],
            name=op.f("fk_village_access_points_village_code_villages"),
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"],
            ["users.id"],
            name=op.f("fk_village_access_points_registered_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_access_points")),
        sa.UniqueConstraint("village_code", "bssid", name=op.f("uq_village_access_points_bssid")),
    )


def downgrade() -> None:
    op.drop_table("village_access_points")
    with op.batch_alter_table("checkins") as batch:
        batch.drop_column("wifi_match")
        batch.drop_column("wifi")
        batch.drop_column("flag_evidence")
