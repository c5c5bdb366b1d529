"""Dispatching units' offices (两头跑: at_home_unit) and the index that finds a device's fixes
of other members (代打卡: shared_device)

Revision ID: 0017
Revises: 0020
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_OFFICE = (
    "office_latitude",
    "office_longitude",
    "office_radius_m",
    "office_set_at",
    "office_set_by",
)


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on both backends: `units` is referenced by every member,
    # and a batch rebuild of it on SQLite fails its foreign keys once members exist.
    op.add_column("units", sa.Column("office_latitude", sa.Float(), nullable=True))
    op.add_column("units", sa.Column("office_longitude", sa.Float(), nullable=True))
    op.add_column("units", sa.Column("office_radius_m", sa.Float(), nullable=True))
    op.add_column("units", sa.Column("office_set_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("units", sa.Column("office_set_by", sa.Integer(), nullable=True))
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
    # ALTER TABLE … DROP COLUMN (SQLite 3.35 and later): no rebuild of `units` either.
    for name in reversed(_OFFICE):
        op.execute(f"ALTER TABLE units DROP COLUMN {name}")
