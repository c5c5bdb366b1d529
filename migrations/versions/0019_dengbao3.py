"""Sign-in for 等保 level 3 (issue 21 items 6–8): the login log, password history, lockout and
TOTP columns of users, idle and restricted sessions, the three separated administrator roles,
and SM2 signing keys (an `alg` on keys, checkpoints and receipts)

Revision ID: 0019
Revises: 0020
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_ROLES = ("member", "township", "county", "city", "unit", "auditor", "admin")
NEW_ROLES = (*OLD_ROLES, "sysadmin", "security_admin", "audit_admin")


def _role_check(roles: tuple[str, ...]) -> str:
    return "role IN ({})".format(", ".join(f"'{r}'" for r in roles))


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role"), _role_check(NEW_ROLES))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True)))
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("totp_secret", sa.String(64)))
        batch.add_column(sa.Column("totp_confirmed_at", sa.DateTime(timezone=True)))
        batch.add_column(
            sa.Column("totp_last_step", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("restriction", sa.String(32)))
    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_history_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_history")),
    )
    op.create_index(
        op.f("ix_password_history_user_id"), "password_history", ["user_id"], unique=False
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(200), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("result", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(op.f("ix_login_attempts_at"), "login_attempts", ["at"], unique=False)
    op.create_index(
        op.f("ix_login_attempts_username"), "login_attempts", ["username"], unique=False
    )
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column(
            "public_key", existing_type=sa.String(64), type_=sa.String(200), existing_nullable=False
        )
        batch.add_column(
            sa.Column("alg", sa.String(16), nullable=False, server_default="ed25519")
        )
    for table in ("audit_checkpoints", "export_receipts"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("alg", sa.String(16), nullable=False, server_default="ed25519")
            )


def downgrade() -> None:
    for table in ("export_receipts", "audit_checkpoints"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("alg")
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("alg")
        batch.alter_column(
            "public_key", existing_type=sa.String(200), type_=sa.String(64), existing_nullable=False
        )
    op.drop_index(op.f("ix_login_attempts_username"), table_name="login_attempts")
    op.drop_index(op.f("ix_login_attempts_at"), table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_index(op.f("ix_password_history_user_id"), table_name="password_history")
    op.drop_table("password_history")
    with op.batch_alter_table("auth_sessions") as batch:
        batch.drop_column("restriction")
        batch.drop_column("last_seen_at")
    # The older schema knows no separated roles: such accounts become inactive admins.
    op.execute(
        "UPDATE users SET role = 'admin', is_active = false "
        "WHERE role IN ('sysadmin', 'security_admin', 'audit_admin')"
    )
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_confirmed_at")
        batch.drop_column("totp_secret")
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
        batch.drop_column("password_changed_at")
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role"), _role_check(OLD_ROLES))
