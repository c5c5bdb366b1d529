"""The presence ledger, leave requests with their trail, and the outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_undelivered",
            ["id"],
            unique=False,
            postgresql_where=sa.text("delivered_at IS NULL"),
            sqlite_where=sa.text("delivered_at IS NULL"),
        )

    op.create_table(
        "leave_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approver_level", sa.String(length=16), nullable=False),
        sa.Column("filed_with", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("extends_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overdue_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'cancelled', 'returned')",
            name=op.f("ck_leave_requests_status"),
        ),
        sa.CheckConstraint(
            "type IN ('personal', 'sick', 'annual', 'official', 'recall')",
            name=op.f("ck_leave_requests_type"),
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_leave_requests_ordered_dates")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_leave_requests_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_leave_requests_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["extends_id"],
            ["leave_requests.id"],
            name=op.f("fk_leave_requests_extends_id_leave_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_leave_requests_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_requests")),
    )
    with op.batch_alter_table("leave_requests", schema=None) as batch_op:
        batch_op.create_index("ix_leave_requests_extends_id", ["extends_id"], unique=False)
        batch_op.create_index(
            "ix_leave_requests_member_start", ["member_id", "start_date"], unique=False
        )
        batch_op.create_index(
            "ix_leave_requests_status_level", ["status", "approver_level"], unique=False
        )

    op.create_table(
        "leave_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("leave_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_leave_transitions_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["leave_id"],
            ["leave_requests.id"],
            name=op.f("fk_leave_transitions_leave_id_leave_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_transitions")),
    )
    with op.batch_alter_table("leave_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leave_transitions_leave_id"), ["leave_id"], unique=False
        )

    op.create_table(
        "presence_days",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counted_checkins", sa.Integer(), nullable=False),
        sa.Column("first_counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("leave_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["leave_id"],
            ["leave_requests.id"],
            name=op.f("fk_presence_days_leave_id_leave_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_presence_days_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", "day", name=op.f("pk_presence_days")),
    )
    with op.batch_alter_table("presence_days", schema=None) as batch_op:
        batch_op.create_index("ix_presence_days_day", ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("presence_days", schema=None) as batch_op:
        batch_op.drop_index("ix_presence_days_day")

    op.drop_table("presence_days")
    with op.batch_alter_table("leave_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leave_transitions_leave_id"))

    op.drop_table("leave_transitions")
    with op.batch_alter_table("leave_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_leave_requests_status_level")
        batch_op.drop_index("ix_leave_requests_member_start")
        batch_op.drop_index("ix_leave_requests_extends_id")

    op.drop_table("leave_requests")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_undelivered",
            postgresql_where=sa.text("delivered_at IS NULL"),
            sqlite_where=sa.text("delivered_at IS NULL"),
        )

    op.drop_table("outbox")
