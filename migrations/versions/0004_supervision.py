"""Supervision: roll calls, inspections, event reports, the rectification ledger and its trail

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('petition', 'safety', 'dispute', 'other')", name=op.f("ck_event_reports_kind")
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["users.id"], name=op.f("fk_event_reports_acknowledged_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_event_reports_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["users.id"], name=op.f("fk_event_reports_reported_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["villages.code"], name=op.f("fk_event_reports_village_code_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_reports")),
    )
    with op.batch_alter_table("event_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_reports_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_event_reports_reported_at"), ["reported_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_reports_village_code"), ["village_code"], unique=False
        )

    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_inspections_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["villages.code"], name=op.f("fk_inspections_village_code_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspections_village_code"), ["village_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inspections_visit_date"), ["visit_date"], unique=False)

    op.create_table(
        "roll_calls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("call_date", sa.Date(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name=op.f("fk_roll_calls_issued_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roll_calls")),
    )
    with op.batch_alter_table("roll_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roll_calls_issued_at"), ["issued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_roll_calls_scope"), ["scope"], unique=False)

    op.create_table(
        "inspection_members",
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("found", sa.String(length=8), nullable=False),
        sa.CheckConstraint(
            "found IN ('present', 'absent')", name=op.f("ck_inspection_members_found")
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspection_members_inspection_id_inspections"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_inspection_members_member_id_members")
        ),
        sa.PrimaryKeyConstraint("inspection_id", "member_id", name=op.f("pk_inspection_members")),
    )
    with op.batch_alter_table("inspection_members", schema=None) as batch_op:
        batch_op.create_index("ix_inspection_members_member", ["member_id"], unique=False)

    op.create_table(
        "rectifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("violation_code", sa.String(length=32), nullable=True),
        sa.Column("violation_period", sa.String(length=8), nullable=True),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=False),
        sa.Column("opened_level", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_level", sa.String(length=16), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "source_kind IN ('violation', 'inspection', 'manual')",
            name=op.f("ck_rectifications_source"),
        ),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_rectifications_status")),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_rectifications_closed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_rectifications_inspection_id_inspections"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_rectifications_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["users.id"], name=op.f("fk_rectifications_opened_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_rectifications_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectifications")),
    )
    with op.batch_alter_table("rectifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rectifications_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index("ix_rectifications_status_due", ["status", "due_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rectifications_village_code"), ["village_code"], unique=False
        )

    op.create_table(
        "roll_call_members",
        sa.Column("roll_call_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_roll_call_members_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["roll_call_id"],
            ["roll_calls.id"],
            name=op.f("fk_roll_call_members_roll_call_id_roll_calls"),
        ),
        sa.PrimaryKeyConstraint("roll_call_id", "member_id", name=op.f("pk_roll_call_members")),
    )
    with op.batch_alter_table("roll_call_members", schema=None) as batch_op:
        batch_op.create_index("ix_roll_call_members_member", ["member_id"], unique=False)

    op.create_table(
        "rectification_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rectification_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_level", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(length=8), nullable=True),
        sa.Column("to_status", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_rectification_transitions_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            ["rectifications.id"],
            name=op.f("fk_rectification_transitions_rectification_id_rectifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_transitions")),
    )
    with op.batch_alter_table("rectification_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rectification_transitions_rectification_id"),
            ["rectification_id"],
            unique=False,
        )

    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(
            "ix_checkins_roll_call_id",
            ["roll_call_id"],
            unique=False,
            sqlite_where=sa.text("roll_call_id IS NOT NULL"),
            postgresql_where=sa.text("roll_call_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_checkins_roll_call_id",
            sqlite_where=sa.text("roll_call_id IS NOT NULL"),
            postgresql_where=sa.text("roll_call_id IS NOT NULL"),
        )

    with op.batch_alter_table("rectification_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rectification_transitions_rectification_id"))

    op.drop_table("rectification_transitions")
    with op.batch_alter_table("roll_call_members", schema=None) as batch_op:
        batch_op.drop_index("ix_roll_call_members_member")

    op.drop_table("roll_call_members")
    with op.batch_alter_table("rectifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rectifications_village_code"))
        batch_op.drop_index("ix_rectifications_status_due")
        batch_op.drop_index(batch_op.f("ix_rectifications_member_id"))

    op.drop_table("rectifications")
    with op.batch_alter_table("inspection_members", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_members_member")

    op.drop_table("inspection_members")
    with op.batch_alter_table("roll_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roll_calls_scope"))
        batch_op.drop_index(batch_op.f("ix_roll_calls_issued_at"))

    op.drop_table("roll_calls")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspections_visit_date"))
        batch_op.drop_index(batch_op.f("ix_inspections_village_code"))

    op.drop_table("inspections")
    with op.batch_alter_table("event_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_reports_village_code"))
        batch_op.drop_index(batch_op.f("ix_event_reports_reported_at"))
        batch_op.drop_index(batch_op.f("ix_event_reports_member_id"))

    op.drop_table("event_reports")
