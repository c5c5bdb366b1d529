"""Households and visits (帮扶到户): households, pairings, visits, countersigns, call-backs,
plans

Revision ID: 0016
Revises: 0017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("household_code", sa.String(length=32), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("head_name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("category", sa.String(length=12), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("paired_from", sa.Date(), nullable=True),
        sa.Column("last_visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_visit_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('lifted', 'monitored', 'ordinary')", name=op.f("ck_households_category")
        ),
        sa.CheckConstraint("risk IN ('high', 'key', 'general')", name=op.f("ck_households_risk")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_households_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["villages.code"], name=op.f("fk_households_village_code_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("household_code", name=op.f("uq_households_household_code")),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_households_member_id"), ["member_id"], unique=False)
        batch_op.create_index("ix_households_village_id", ["village_code", "id"], unique=False)

    op.create_table(
        "callback_draws",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("min_per_member", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=32), nullable=False),
        sa.Column("drawn_by", sa.Integer(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drawn_by"], ["users.id"], name=op.f("fk_callback_draws_drawn_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_draws")),
    )
    op.create_table(
        "household_pairings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "to_date IS NULL OR to_date >= from_date",
            name=op.f("ck_household_pairings_ordered_dates"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_pairings_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_household_pairings_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_pairings")),
    )
    with op.batch_alter_table("household_pairings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_household_pairings_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_household_pairings_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "household_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_household_plans_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_plans_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_plans")),
        sa.UniqueConstraint("household_id", "version", name="uq_household_plans_version"),
    )
    op.create_table(
        "visits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column(
            "checkin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("at_household", sa.Boolean(), nullable=False),
        sa.Column("credited", sa.Boolean(), nullable=False),
        sa.Column("confirmation", sa.String(length=12), nullable=False),
        sa.Column("flags", sa.String(length=200), nullable=False),
        sa.Column("topics", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("problems_found", sa.Boolean(), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "confirmation IN ('pending', 'confirmed', 'denied', 'unconfirmed')",
            name=op.f("ck_visits_confirmation"),
        ),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkins.id"], name=op.f("fk_visits_checkin_id_checkins")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_visits_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_visits_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("member_id", "client_id", name="uq_visits_member_client"),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_visits_household_captured", ["household_id", "captured_at"], unique=False
        )
        batch_op.create_index("ix_visits_member_date", ["member_id", "local_date"], unique=False)

    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=True),
        sa.Column("visit_confirmed", sa.String(length=8), nullable=True),
        sa.Column("knows_member", sa.Boolean(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_on", sa.Date(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'done')", name=op.f("ck_callbacks_status")),
        sa.CheckConstraint(
            "visit_confirmed IS NULL OR visit_confirmed IN ('yes', 'no', 'unsure')",
            name=op.f("ck_callbacks_visit_confirmed"),
        ),
        sa.CheckConstraint(
            "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name=op.f("ck_callbacks_score")
        ),
        sa.ForeignKeyConstraint(
            ["draw_id"], ["callback_draws.id"], name=op.f("fk_callbacks_draw_id_callback_draws")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_callbacks_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_callbacks_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_callbacks_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_callbacks_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callbacks_draw_id"), ["draw_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_callbacks_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_callbacks_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_callbacks_village_code"), ["village_code"], unique=False
        )

    op.create_table(
        "countersigns",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed", sa.Boolean(), nullable=True),
        sa.Column("knows_member", sa.Boolean(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("receipt", sa.String(length=8), nullable=True),
        sa.Column("confirmer_key", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5",
            name=op.f("ck_countersigns_score"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_countersigns_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_countersigns")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_countersigns_token_hash")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_countersigns_visit_id")),
    )
    with op.batch_alter_table("countersigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_countersigns_code_hash"), ["code_hash"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_countersigns_confirmer_key"), ["confirmer_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("countersigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_countersigns_confirmer_key"))
        batch_op.drop_index(batch_op.f("ix_countersigns_code_hash"))

    op.drop_table("countersigns")
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callbacks_village_code"))
        batch_op.drop_index(batch_op.f("ix_callbacks_member_id"))
        batch_op.drop_index(batch_op.f("ix_callbacks_household_id"))
        batch_op.drop_index(batch_op.f("ix_callbacks_draw_id"))

    op.drop_table("callbacks")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index("ix_visits_member_date")
        batch_op.drop_index("ix_visits_household_captured")

    op.drop_table("visits")
    op.drop_table("household_plans")
    with op.batch_alter_table("household_pairings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_pairings_member_id"))
        batch_op.drop_index(batch_op.f("ix_household_pairings_household_id"))

    op.drop_table("household_pairings")
    op.drop_table("callback_draws")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index("ix_households_village_id")
        batch_op.drop_index(batch_op.f("ix_households_member_id"))

    op.drop_table("households")
