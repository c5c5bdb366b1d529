"""Privacy: the access log (a hash chain its checkpoints sign), retention of raw fixes (nullable
positions, purge marks), the acknowledged notice version, complaints and suggestions

Revision ID: 0018
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64
POSITION = ("latitude", "longitude", "raw_latitude", "raw_longitude")


def upgrade() -> None:
    # SQLite rebuilds `checkins` (four columns become nullable) by copy, drop and rename, with
    # foreign keys off for the while (migrations/env.py).
    op.create_table(
        "audit_access",
        sa.Column("seq", BigId, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("viewer_id", sa.Integer(), nullable=False),
        sa.Column("viewer_role", sa.String(length=16), nullable=False),
        sa.Column("subject_member_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(length=48), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("member_day", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_access")),
    )
    op.create_index("ix_audit_access_subject", "audit_access", ["subject_member_id", "seq"])
    op.create_index("ix_audit_access_viewer", "audit_access", ["viewer_id", "seq"])
    head = op.create_table(
        "audit_access_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_access_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "last_hash": GENESIS}])
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.add_column(sa.Column("access_seq", BigId, nullable=True))
        batch.add_column(sa.Column("access_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("checkins") as batch:
        for name in POSITION:
            batch.alter_column(name, existing_type=sa.Float(), nullable=True)
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("purge_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("notice_version", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("notice_acknowledged_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("about_kind", sa.String(length=32), nullable=True),
        sa.Column("about_id", sa.String(length=64), nullable=True),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_by", sa.Integer(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('complaint', 'suggestion', 'burden', 'data_correction')",
            name=op.f("ck_feedback_kind"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_feedback_user_id_users")),
        sa.ForeignKeyConstraint(
            ["replied_by"], ["users.id"], name=op.f("fk_feedback_replied_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index("ix_feedback_user", "feedback", ["user_id", "id"])
    op.create_index("ix_feedback_division_code", "feedback", ["division_code"])


def downgrade() -> None:
    op.drop_index("ix_feedback_division_code", table_name="feedback")
    op.drop_index("ix_feedback_user", table_name="feedback")
    op.drop_table("feedback")
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of `users` would drop the
    # table that every other table's foreign keys name.
    op.execute("ALTER TABLE users DROP COLUMN notice_acknowledged_at")
    op.execute("ALTER TABLE users DROP COLUMN notice_version")
    # Purged fixes have no position left to restore: a downgrade keeps them (with zeros would
    # lie), so it refuses while any exists.
    purged = op.get_bind().execute(
        sa.text("SELECT count(*) FROM checkins WHERE purged_at IS NOT NULL")
    )
    if purged.scalar():
        raise RuntimeError("purged check-ins exist: their positions cannot be restored")
    with op.batch_alter_table("checkins") as batch:
        batch.drop_column("purge_hash")
        batch.drop_column("purged_at")
        for name in POSITION:
            batch.alter_column(name, existing_type=sa.Float(), nullable=False)
    op.execute("ALTER TABLE audit_checkpoints DROP COLUMN access_hash")
    op.execute("ALTER TABLE audit_checkpoints DROP COLUMN access_seq")
    op.drop_table("audit_access_head")
    op.drop_index("ix_audit_access_viewer", table_name="audit_access")
    op.drop_index("ix_audit_access_subject", table_name="audit_access")
    op.drop_table("audit_access")
