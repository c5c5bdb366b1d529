"""Check-ins, their reviews, and the per-member chain heads

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkin_chain_heads",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("last_device_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_checkin_chain_heads_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_checkin_chain_heads")),
    )
    op.create_table(
        "checkins",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("raw_latitude", sa.Float(), nullable=False),
        sa.Column("raw_longitude", sa.Float(), nullable=False),
        sa.Column("coord_system", sa.String(length=8), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=False),
        sa.Column("altitude_m", sa.Float(), nullable=True),
        sa.Column("speed_mps", sa.Float(), nullable=True),
        sa.Column("heading_deg", sa.Float(), nullable=True),
        sa.Column("provider", sa.String(length=16), nullable=True),
        sa.Column("is_mock", sa.Boolean(), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("roll_call_id", sa.String(length=64), nullable=True),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("assigned_village_code", sa.String(length=12), nullable=True),
        sa.Column("boundary_id", sa.Integer(), nullable=True),
        sa.Column("geofence", sa.String(length=8), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("credited", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.String(length=255), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_checkins_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint("member_id", "client_id", name="uq_checkins_member_client"),
        sa.UniqueConstraint("member_id", "seq", name="uq_checkins_member_seq"),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index("ix_checkins_local_date", ["local_date"], unique=False)
        batch_op.create_index(
            "ix_checkins_member_captured_at", ["member_id", "captured_at"], unique=False
        )
        batch_op.create_index(
            "ix_checkins_member_local_date", ["member_id", "local_date"], unique=False
        )
        batch_op.create_index(
            "ix_checkins_member_position", ["member_id", "latitude", "longitude"], unique=False
        )

    op.create_table(
        "checkin_reviews",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "checkin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkins.id"], name=op.f("fk_checkin_reviews_checkin_id_checkins")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_checkin_reviews_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_reviews")),
    )
    with op.batch_alter_table("checkin_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checkin_reviews_checkin_id"), ["checkin_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("checkin_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_reviews_checkin_id"))

    op.drop_table("checkin_reviews")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_member_position")
        batch_op.drop_index("ix_checkins_member_local_date")
        batch_op.drop_index("ix_checkins_member_captured_at")
        batch_op.drop_index("ix_checkins_local_date")

    op.drop_table("checkins")
    op.drop_table("checkin_chain_heads")
