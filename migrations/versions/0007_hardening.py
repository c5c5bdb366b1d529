"""Boundary revision as a 64-bit value that never repeats, even after the schema is rebuilt

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

Each process caches its geofence index under the revision it was built at. A counter that
restarts at 0 when the database is recreated (or migrated down and up) could come back to a
number a running process has cached with other boundaries; bumps now move it to at least the
current time in microseconds, and this migration starts it there.
"""

import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgres():  # SQLite's INTEGER holds 64 bits already
        op.alter_column(
            "boundary_revision", "revision", type_=sa.BigInteger(), existing_nullable=False
        )
    op.execute(
        sa.text("UPDATE boundary_revision SET revision = :now").bindparams(
            now=time.time_ns() // 1000
        )
    )


def downgrade() -> None:
    op.execute(sa.text("UPDATE boundary_revision SET revision = 0"))
    if _postgres():
        op.alter_column(
            "boundary_revision", "revision", type_=sa.Integer(), existing_nullable=False
        )
