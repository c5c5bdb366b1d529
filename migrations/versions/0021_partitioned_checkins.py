"""PostgreSQL: check-ins in monthly range partitions by local_date, the idempotency key in
its own table (claimed by a statement trigger), and the seals of detached months. SQLite:
nothing changes.

The conversion is in place: the table is renamed, a partitioned `checkins` is made with the
same columns (and the same id sequence), the months the rows hold (and this one and the next
three) are made, the rows are copied, the old table dropped. References to a check-in by id
(reviews, findings, rejudgements, household visits) keep their indexes and lose their foreign
keys: a partitioned table's unique keys must include local_date (app.checkins.partitions).

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from datetime import date, timedelta

from alembic import op

revision: str = "0021"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFERRING = ("checkin_reviews", "checkin_findings", "checkin_rejudgements", "visits")
_INDEXES = (
    "CREATE INDEX ix_checkins_member_seq ON checkins (member_id, seq)",
    "CREATE INDEX ix_checkins_member_local_date ON checkins (member_id, local_date)",
    "CREATE INDEX ix_checkins_member_captured_at ON checkins (member_id, captured_at)",
    "CREATE INDEX ix_checkins_local_date ON checkins (local_date)",
    "CREATE INDEX ix_checkins_member_position ON checkins (member_id, latitude, longitude)",
    "CREATE INDEX ix_checkins_roll_call_id ON checkins (roll_call_id) "
    "WHERE roll_call_id IS NOT NULL",
    "CREATE INDEX ix_checkins_flagged ON checkins (member_id, local_date) WHERE flags <> ''",
    "CREATE INDEX ix_checkins_device ON checkins (device_id, member_id, captured_at) "
    "WHERE device_id IS NOT NULL",
)
_UNPARTITIONED_INDEXES = (
    "CREATE INDEX ix_checkins_member_local_date ON checkins (member_id, local_date)",
    "CREATE INDEX ix_checkins_member_captured_at ON checkins (member_id, captured_at)",
    "CREATE INDEX ix_checkins_local_date ON checkins (local_date)",
    "CREATE INDEX ix_checkins_member_position ON checkins (member_id, latitude, longitude)",
    "CREATE INDEX ix_checkins_roll_call_id ON checkins (roll_call_id) "
    "WHERE roll_call_id IS NOT NULL",
    "CREATE INDEX ix_checkins_flagged ON checkins (member_id, local_date) WHERE flags <> ''",
    "CREATE INDEX ix_checkins_device ON checkins (device_id, member_id, captured_at) "
    "WHERE device_id IS NOT NULL",
)


def _next(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    today = bind.exec_driver_sql("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date").scalar()
    months = {
        row[0]
        for row in bind.exec_driver_sql(
            "SELECT DISTINCT date_trunc('month', local_date)::date FROM checkins"
        )
    }
    month = today.replace(day=1)
    for _ in range(4):  # this month and three ahead (then `zhucun daily` keeps them ahead)
        months.add(month)
        month = _next(month)
    for table in _REFERRING:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_checkin_id_checkins")
    op.execute("ALTER TABLE checkins RENAME TO checkins_unpartitioned")
    op.execute("ALTER SEQUENCE checkins_id_seq OWNED BY NONE")
    op.execute(
        "CREATE TABLE checkins (LIKE checkins_unpartitioned INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (local_date)"
    )
    for month in sorted(months):
        op.execute(
            f"CREATE TABLE checkins_{month.year:04d}_{month.month:02d} PARTITION OF checkins "
            f"FOR VALUES FROM ('{month}') TO ('{_next(month)}')"
        )
    op.execute("CREATE TABLE checkins_default PARTITION OF checkins DEFAULT")
    op.execute("INSERT INTO checkins SELECT * FROM checkins_unpartitioned")
    op.execute("DROP TABLE checkins_unpartitioned")
    op.execute("ALTER SEQUENCE checkins_id_seq OWNED BY checkins.id")
    op.execute("ALTER TABLE checkins ADD CONSTRAINT pk_checkins PRIMARY KEY (id, local_date)")
    op.execute(
        "ALTER TABLE checkins ADD CONSTRAINT fk_checkins_member_id_members "
        "FOREIGN KEY (member_id) REFERENCES members (id)"
    )
    for statement in _INDEXES:
        op.execute(statement)

    op.execute(
        "CREATE TABLE checkin_keys ("
        " member_id integer NOT NULL, client_id varchar(36) NOT NULL,"
        " checkin_id bigint NOT NULL, local_date date NOT NULL, body_hash varchar(64) NOT NULL,"
        " CONSTRAINT pk_checkin_keys PRIMARY KEY (member_id, client_id))"
    )
    op.execute(
        "INSERT INTO checkin_keys (member_id, client_id, checkin_id, local_date, body_hash) "
        "SELECT member_id, client_id, id, local_date, body_hash FROM checkins"
    )
    # One INSERT … SELECT per statement (a batch is one statement): the key is claimed in the
    # inserting transaction, and a second claim of it fails like a unique constraint would.
    op.execute(
        "CREATE FUNCTION checkin_keys_claim() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO checkin_keys (member_id, client_id, checkin_id, local_date, body_hash) "
        "SELECT member_id, client_id, id, local_date, body_hash FROM claimed; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER checkins_claim_keys AFTER INSERT ON checkins "
        "REFERENCING NEW TABLE AS claimed FOR EACH STATEMENT EXECUTE FUNCTION checkin_keys_claim()"
    )
    op.execute(
        "CREATE TABLE checkin_sealed_runs ("
        " member_id integer NOT NULL, first_seq integer NOT NULL, month date NOT NULL,"
        " prev_hash varchar(64) NOT NULL, last_seq integer NOT NULL,"
        " last_hash varchar(64) NOT NULL, rows integer NOT NULL,"
        " CONSTRAINT pk_checkin_sealed_runs PRIMARY KEY (member_id, first_seq))"
    )
    op.execute("ANALYZE checkins")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    sealed = bind.exec_driver_sql("SELECT DISTINCT month FROM checkin_sealed_runs").all()
    if sealed:
        raise RuntimeError(
            "detached months exist (zhucun checkins attach YYYY-MM each first): "
            + ", ".join(str(r[0]) for r in sealed)
        )
    op.execute("DROP TABLE checkin_sealed_runs")
    op.execute("DROP TRIGGER checkins_claim_keys ON checkins")
    op.execute("DROP FUNCTION checkin_keys_claim()")
    op.execute("DROP TABLE checkin_keys")
    op.execute("ALTER TABLE checkins RENAME TO checkins_partitioned")
    op.execute("ALTER SEQUENCE checkins_id_seq OWNED BY NONE")
    op.execute("CREATE TABLE checkins (LIKE checkins_partitioned INCLUDING DEFAULTS)")
    op.execute("INSERT INTO checkins SELECT * FROM checkins_partitioned")
    op.execute("DROP TABLE checkins_partitioned")  # and its partitions
    op.execute("ALTER SEQUENCE checkins_id_seq OWNED BY checkins.id")
    op.execute("ALTER TABLE checkins ADD CONSTRAINT pk_checkins PRIMARY KEY (id)")
    op.execute(
        "ALTER TABLE checkins ADD CONSTRAINT fk_checkins_member_id_members "
        "FOREIGN KEY (member_id) REFERENCES members (id)"
    )
    op.execute(
        "ALTER TABLE checkins ADD CONSTRAINT uq_checkins_member_client "
        "UNIQUE (member_id, client_id)"
    )
    op.execute("ALTER TABLE checkins ADD CONSTRAINT uq_checkins_member_seq UNIQUE (member_id, seq)")
    for statement in _UNPARTITIONED_INDEXES:
        op.execute(statement)
    for table in _REFERRING:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_checkin_id_checkins "
            "FOREIGN KEY (checkin_id) REFERENCES checkins (id)"
        )
