"""Villages with versioned boundaries, units, members, assignments, users, login failures.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.geometry import GeometryType

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgres():
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "villages",
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("township_code", sa.String(9), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(code) = 12", name=op.f("ck_villages_code_12_digits")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_villages")),
    )
    op.create_index(op.f("ix_villages_township_code"), "villages", ["township_code"])
    op.create_index(op.f("ix_villages_county_code"), "villages", ["county_code"])

    op.create_table(
        "village_boundaries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False),
        sa.Column("boundary", GeometryType("MULTIPOLYGON"), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["village_code"],
            ["villages.code"],
            name=op.f("fk_village_boundaries_village_code_villages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_boundaries")),
    )
    op.create_index(
        op.f("ix_village_boundaries_village_code"), "village_boundaries", ["village_code"]
    )
    op.create_index(
        "uq_village_boundaries_open",
        "village_boundaries",
        ["village_code"],
        unique=True,
        sqlite_where=sa.text("valid_to IS NULL"),
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    if _postgres():
        op.create_index(
            "ix_village_boundaries_boundary",
            "village_boundaries",
            ["boundary"],
            postgresql_using="gist",
        )

    revision_table = op.create_table(
        "boundary_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundary_revision")),
    )
    op.bulk_insert(revision_table, [{"id": 1, "revision": 0}])

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("name", name=op.f("uq_units_name")),
    )

    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("full_name", sa.String(100), nullable=False),
        sa.Column("position", sa.String(20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "position IN ('first_secretary', 'team_leader', 'team_member')",
            name=op.f("ck_members_position"),
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_members_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
    )
    op.create_index(op.f("ix_members_unit_id"), "members", ["unit_id"])

    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("ck_assignments_ordered_dates")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_assignments_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["villages.code"], name=op.f("fk_assignments_village_code_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(op.f("ix_assignments_member_id"), "assignments", ["member_id"])
    op.create_index(op.f("ix_assignments_village_code"), "assignments", ["village_code"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("full_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('member', 'township', 'county', 'city', 'unit', 'auditor', 'admin')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_users_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        sa.UniqueConstraint("member_id", name=op.f("uq_users_member_id")),
    )

    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_username_at", "login_failures", ["username", "at"])
    op.create_index("ix_login_failures_address_at", "login_failures", ["address", "at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("users")
    op.drop_table("assignments")
    op.drop_table("members")
    op.drop_table("units")
    op.drop_table("boundary_revision")
    if _postgres():
        op.drop_index("ix_village_boundaries_boundary", table_name="village_boundaries")
    op.drop_table("village_boundaries")
    op.drop_table("villages")
