"""Check-in rejudgements: a fix judged again after a retroactive assignment change

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "checkin_rejudgements",
        sa.Column("checkin_id", BigId, nullable=False),
        sa.Column("assigned_village_code", sa.String(length=12), nullable=True),
        sa.Column("boundary_id", sa.Integer(), nullable=True),
        sa.Column("geofence", sa.String(length=8), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("credited", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.String(length=255), nullable=False),
        sa.Column("flag_evidence", sa.JSON(), nullable=True),
        sa.Column("wifi_match", sa.Boolean(), nullable=True),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_id"],
            ["checkins.id"],
            name=op.f("fk_checkin_rejudgements_checkin_id_checkins"),
        ),
        sa.PrimaryKeyConstraint("checkin_id", name=op.f("pk_checkin_rejudgements")),
    )


def downgrade() -> None:
    op.drop_table("checkin_rejudgements")
