"""Notifications: each outbox event's deliveries, one per target; when an event was routed;
when a rectification's overdue event was queued

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(
            "ix_outbox_unrouted",
            ["id"],
            unique=False,
            postgresql_where=sa.text("routed_at IS NULL"),
            sqlite_where=sa.text("routed_at IS NULL"),
        )
    op.create_table(
        "outbox_deliveries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'dead', 'refused')",
            name=op.f("ck_outbox_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["outbox.id"], name=op.f("fk_outbox_deliveries_event_id_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_deliveries")),
        sa.UniqueConstraint(
            "event_id", "target", name=op.f("uq_outbox_deliveries_event_id_target")
        ),
    )
    with op.batch_alter_table("outbox_deliveries") as batch:
        batch.create_index(
            "ix_outbox_deliveries_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
    with op.batch_alter_table("rectifications") as batch:
        batch.add_column(
            sa.Column("overdue_notified_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("rectifications") as batch:
        batch.drop_column("overdue_notified_at")
    with op.batch_alter_table("outbox_deliveries") as batch:
        batch.drop_index("ix_outbox_deliveries_due")
    op.drop_table("outbox_deliveries")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_unrouted")
        batch.drop_column("routed_at")
