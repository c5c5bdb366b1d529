"""Findings carry their check-in's local date (both backends). PostgreSQL: the check-ins'
findings and the access log in monthly range partitions, as 0021 made the check-ins.

`checkin_findings` is partitioned by `local_date`, in the months `checkins` has (and with a
DEFAULT partition): a month's findings are read, detached and attached with its check-ins
(app.checkins.partitions). A partitioned table's unique key must hold the partition key, so
(checkin_id, code) becomes (checkin_id, code, local_date), and a foreign key to the check-in's
(id, local_date), the primary key of `checkins`, makes local_date the check-in's one date: the
same guarantee, one finding of a code per check-in.

`audit_access` is partitioned by `at`, in UTC months (an instant has no local day; UTC bounds
name the same instants whatever the server's zone), its primary key (seq, at): seq stays
unique as every append locks audit_access_head and numbers after the head's seq.

The conversion is in place, as 0021's: rename, a partitioned table with the same columns (and
the same id sequence), the months the rows hold and this one and the next three, the rows
copied, the old table dropped. SQLite: only the new column.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACCESS_INDEXES = (
    "CREATE INDEX ix_audit_access_subject ON audit_access (subject_member_id, seq)",
    "CREATE INDEX ix_audit_access_viewer ON audit_access (viewer_id, seq)",
)


def _next(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _ahead(today: date) -> set[date]:
    months, month = set(), today.replace(day=1)
    for _ in range(4):  # this month and three ahead (then `zhucun daily` keeps them ahead)
        months.add(month)
        month = _next(month)
    return months


def _detached_months() -> list[date]:
    """Months of check-ins detached (sealed, and no longer a partition of `checkins`)."""
    bind = op.get_bind()
    sealed = {r[0] for r in bind.exec_driver_sql("SELECT DISTINCT month FROM checkin_sealed_runs")}
    attached = {
        r[0]
        for r in bind.exec_driver_sql(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'checkins'::regclass"
        )
    }
    return sorted(m for m in sealed if f"checkins_{m.year:04d}_{m.month:02d}" not in attached)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        op.add_column("checkin_findings", sa.Column("local_date", sa.Date(), nullable=True))
        op.execute(
            "UPDATE checkin_findings SET local_date = "
            "(SELECT local_date FROM checkins WHERE checkins.id = checkin_findings.checkin_id)"
        )
        with op.batch_alter_table("checkin_findings") as batch:
            batch.alter_column("local_date", existing_type=sa.Date(), nullable=False)
        return
    detached = _detached_months()
    if detached:
        # Their findings would find no check-in to take the date of.
        raise RuntimeError(
            "detached months exist (zhucun checkins attach YYYY-MM each first): "
            + ", ".join(f"{m:%Y-%m}" for m in detached)
        )
    _findings_up(bind)
    _access_up(bind)


def _findings_up(bind: sa.Connection) -> None:
    # The months `checkins` has (0021 and the daily job made them): the two move together.
    months = {
        date(int(name[9:13]), int(name[14:16]), 1)
        for (name,) in bind.exec_driver_sql(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'checkins'::regclass "
            "AND c.relname ~ '^checkins_[0-9]{4}_[0-9]{2}$'"
        )
    }
    today = bind.exec_driver_sql("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date").scalar()
    months |= _ahead(today)
    op.execute("ALTER TABLE checkin_findings RENAME TO checkin_findings_unpartitioned")
    op.execute("ALTER SEQUENCE checkin_findings_id_seq OWNED BY NONE")
    op.execute(
        "CREATE TABLE checkin_findings (LIKE checkin_findings_unpartitioned INCLUDING DEFAULTS,"
        " local_date date NOT NULL) PARTITION BY RANGE (local_date)"
    )
    for month in sorted(months):
        op.execute(
            f"CREATE TABLE checkin_findings_{month.year:04d}_{month.month:02d} "
            f"PARTITION OF checkin_findings FOR VALUES FROM ('{month}') TO ('{_next(month)}')"
        )
    op.execute("CREATE TABLE checkin_findings_default PARTITION OF checkin_findings DEFAULT")
    op.execute(
        "INSERT INTO checkin_findings SELECT f.*, c.local_date "
        "FROM checkin_findings_unpartitioned f JOIN checkins c ON c.id = f.checkin_id"
    )
    lost = bind.exec_driver_sql(
        "SELECT count(*) FROM checkin_findings_unpartitioned f "
        "WHERE NOT EXISTS (SELECT 1 FROM checkins c WHERE c.id = f.checkin_id)"
    ).scalar()
    if lost:
        raise RuntimeError(f"{lost} finding(s) of no stored check-in: nothing converted")
    op.execute("DROP TABLE checkin_findings_unpartitioned")
    op.execute("ALTER SEQUENCE checkin_findings_id_seq OWNED BY checkin_findings.id")
    op.execute(
        "ALTER TABLE checkin_findings ADD CONSTRAINT pk_checkin_findings "
        "PRIMARY KEY (id, local_date)"
    )
    op.execute(
        "ALTER TABLE checkin_findings ADD CONSTRAINT uq_checkin_findings_checkin_code_day "
        "UNIQUE (checkin_id, code, local_date)"
    )
    op.execute(
        "ALTER TABLE checkin_findings ADD CONSTRAINT fk_checkin_findings_checkin_day_checkins "
        "FOREIGN KEY (checkin_id, local_date) REFERENCES checkins (id, local_date)"
    )
    op.execute("ANALYZE checkin_findings")


def _access_up(bind: sa.Connection) -> None:
    months = {
        r[0]
        for r in bind.exec_driver_sql(
            "SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC')::date FROM audit_access"
        )
    }
    today = bind.exec_driver_sql("SELECT (now() AT TIME ZONE 'UTC')::date").scalar()
    months |= _ahead(today)
    op.execute("ALTER TABLE audit_access RENAME TO audit_access_unpartitioned")
    op.execute(
        "CREATE TABLE audit_access (LIKE audit_access_unpartitioned INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (at)"
    )
    for month in sorted(months):
        op.execute(
            f"CREATE TABLE audit_access_{month.year:04d}_{month.month:02d} "
            f"PARTITION OF audit_access FOR VALUES FROM ('{month} 00:00:00+00') "
            f"TO ('{_next(month)} 00:00:00+00')"
        )
    op.execute("CREATE TABLE audit_access_default PARTITION OF audit_access DEFAULT")
    op.execute("INSERT INTO audit_access SELECT * FROM audit_access_unpartitioned")
    op.execute("DROP TABLE audit_access_unpartitioned")
    # seq alone is not a key of a table partitioned by `at`; it stays unique all the same: every
    # append locks audit_access_head (app.audit.access) and numbers after the head's seq.
    op.execute("ALTER TABLE audit_access ADD CONSTRAINT pk_audit_access PRIMARY KEY (seq, at)")
    for statement in _ACCESS_INDEXES:
        op.execute(statement)
    op.execute("ANALYZE audit_access")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        with op.batch_alter_table("checkin_findings") as batch:
            batch.drop_column("local_date")
        return
    detached = _detached_months()
    if detached:
        raise RuntimeError(
            "detached months exist (zhucun checkins attach YYYY-MM each first): "
            + ", ".join(f"{m:%Y-%m}" for m in detached)
        )
    op.execute("ALTER TABLE audit_access RENAME TO audit_access_partitioned")
    op.execute("CREATE TABLE audit_access (LIKE audit_access_partitioned INCLUDING DEFAULTS)")
    op.execute("INSERT INTO audit_access SELECT * FROM audit_access_partitioned")
    op.execute("DROP TABLE audit_access_partitioned")  # and its partitions
    op.execute("ALTER TABLE audit_access ADD CONSTRAINT pk_audit_access PRIMARY KEY (seq)")
    for statement in _ACCESS_INDEXES:
        op.execute(statement)

    op.execute("ALTER TABLE checkin_findings RENAME TO checkin_findings_partitioned")
    op.execute("ALTER SEQUENCE checkin_findings_id_seq OWNED BY NONE")
    op.execute(
        "CREATE TABLE checkin_findings (LIKE checkin_findings_partitioned INCLUDING DEFAULTS)"
    )
    op.execute("ALTER TABLE checkin_findings DROP COLUMN local_date")
    op.execute(
        "INSERT INTO checkin_findings (id, checkin_id, code, matched_date, evidence, found_at) "
        "SELECT id, checkin_id, code, matched_date, evidence, found_at "
        "FROM checkin_findings_partitioned"
    )
    op.execute("DROP TABLE checkin_findings_partitioned")  # and its partitions
    op.execute("ALTER SEQUENCE checkin_findings_id_seq OWNED BY checkin_findings.id")
    op.execute("ALTER TABLE checkin_findings ADD CONSTRAINT pk_checkin_findings PRIMARY KEY (id)")
    op.execute(
        "ALTER TABLE checkin_findings ADD CONSTRAINT uq_checkin_findings_checkin_code "
        "UNIQUE (checkin_id, code)"
    )
