"""PostgreSQL: the national rollup's compliance results. A province's members judged per quota
period (as GET /compliance judges them), tagged with the province: the counts, the status,
the violations counted by code and the day line (one character a day; no positions), kept by
`zhucun rollup refresh` (run by `zhucun daily`) and published with rollup_days. A publication
made before this revision gets the table too. SQLite: nothing.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The province is part of the key: two provinces' member ids never collide nationally.
    op.execute(
        "CREATE TABLE rollup_compliance ("
        " province varchar(12) NOT NULL, member_id integer NOT NULL, period varchar(7) NOT NULL,"
        " period_start date NOT NULL, period_end date NOT NULL,"
        " required_days integer NOT NULL, present_days integer NOT NULL,"
        " credited_days integer NOT NULL, leave_days integer NOT NULL,"
        " absent_workdays integer NOT NULL, needed_days integer NOT NULL,"
        " status varchar(12) NOT NULL, compliant boolean NOT NULL,"
        " violations jsonb NOT NULL, day_line varchar(366) NOT NULL, as_of date NOT NULL,"
        " CONSTRAINT pk_rollup_compliance PRIMARY KEY (province, member_id, period))"
    )
    op.execute("CREATE INDEX ix_rollup_compliance_period ON rollup_compliance (period)")
    op.execute(
        "CREATE INDEX ix_rollup_compliance_span ON rollup_compliance (period_start, period_end)"
    )
    # A province that published before this revision: its publication carries the results
    # too (the national side then runs ALTER SUBSCRIPTION … REFRESH PUBLICATION).
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'zhucun_rollup') "
        "THEN ALTER PUBLICATION zhucun_rollup ADD TABLE rollup_compliance; END IF; END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE rollup_compliance")  # leaves any publication it was in
