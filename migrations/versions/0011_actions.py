"""The actions log: a hash chain of privileged actions, and checkpoints that sign its head

Revision ID: 0011_actions
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Tables whose rows the chain witnesses (app/audit/witnesses.py): rows that exist now predate
# the chain and will have no entry; the head remembers up to which id.
WITNESSED = ("checkin_reviews", "leave_transitions")


def upgrade() -> None:
    op.create_table(
        "audit_actions",
        sa.Column("seq", BigId, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_actions")),
    )
    op.create_index(op.f("ix_audit_actions_subject"), "audit_actions", ["subject"], unique=False)
    head = op.create_table(
        "audit_actions_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("baseline", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_actions_head")),
    )
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.add_column(sa.Column("actions_seq", BigId, nullable=True))
        batch.add_column(sa.Column("actions_hash", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    baseline = {}
    for table in WITNESSED:
        highest = conn.execute(sa.text(f"SELECT max(id) FROM {table}")).scalar()
        if highest:
            baseline[table] = int(highest)
    op.bulk_insert(head, [{"id": 1, "seq": 0, "last_hash": "0" * 64, "baseline": baseline or None}])


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.drop_column("actions_hash")
        batch.drop_column("actions_seq")
    op.drop_table("audit_actions_head")
    op.drop_index(op.f("ix_audit_actions_subject"), table_name="audit_actions")
    op.drop_table("audit_actions")
