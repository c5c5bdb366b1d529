"""Dispatching units' offices (两头跑: at_home_unit) and the index that finds a device's fixes
of other members (代打卡: shared_device)

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("office_latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("office_longitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("office_radius_m", sa.Float(), nullable=True))
        batch.add_column(sa.Column("office_set_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("office_set_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_units_office_set_by_users", "users", ["office_set_by"], ["id"]
        )
    with op.batch_alter_table("checkins") as batch:
        batch.create_index(
            "ix_checkins_device",
            ["device_id", "member_id", "captured_at"],
            unique=False,
            postgresql_where=sa.text("device_id IS NOT NULL"),
            sqlite_where=sa.text("device_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("checkins") as batch:
        batch.drop_index("ix_checkins_device")
    with op.batch_alter_table("units") as batch:
        batch.drop_constraint("fk_units_office_set_by_users", type_="foreignkey")
        batch.drop_column("office_set_by")
        batch.drop_column("office_set_at")
        batch.drop_column("office_radius_m")
        batch.drop_column("office_longitude")
        batch.drop_column("office_latitude")
