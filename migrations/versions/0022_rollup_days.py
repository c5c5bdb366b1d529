"""PostgreSQL: the national rollup's table. A province's ledger days, tagged with the province,
kept by a trigger on presence_days that `zhucun rollup publish` makes (with the province in
rollup_origin; none before: nothing is paid until then); the national database
receives every province's rows in the same table by logical replication. SQLite: nothing.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE rollup_origin (province varchar(12) NOT NULL,"
        " CONSTRAINT pk_rollup_origin PRIMARY KEY (province))"
    )
    # The province is part of the key: two provinces' member ids never collide nationally.
    op.execute(
        "CREATE TABLE rollup_days ("
        " province varchar(12) NOT NULL, member_id integer NOT NULL, day date NOT NULL,"
        " counted_checkins integer NOT NULL, present boolean NOT NULL, leave_id integer,"
        " CONSTRAINT pk_rollup_days PRIMARY KEY (province, member_id, day))"
    )
    op.execute("CREATE INDEX ix_rollup_days_day ON rollup_days (day)")
    op.execute(
        "CREATE FUNCTION rollup_days_track() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE p varchar(12); BEGIN "
        "SELECT province INTO p FROM rollup_origin LIMIT 1; "
        "IF p IS NULL THEN RETURN NULL; END IF; "
        "IF TG_OP = 'DELETE' THEN "
        "DELETE FROM rollup_days WHERE province = p AND member_id = OLD.member_id "
        "AND day = OLD.day; "
        "ELSE "
        "INSERT INTO rollup_days (province, member_id, day, counted_checkins, present, leave_id) "
        "VALUES (p, NEW.member_id, NEW.day, NEW.counted_checkins, NEW.present, NEW.leave_id) "
        "ON CONFLICT (province, member_id, day) DO UPDATE SET "
        "counted_checkins = EXCLUDED.counted_checkins, present = EXCLUDED.present, "
        "leave_id = EXCLUDED.leave_id; "
        "END IF; RETURN NULL; END $$"
    )
    # The trigger itself is made by `zhucun rollup publish` (app.rollup.service): a database
    # that publishes nothing pays nothing on its ledger writes.


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP PUBLICATION IF EXISTS zhucun_rollup")
    op.execute("DROP TRIGGER IF EXISTS presence_days_rollup ON presence_days")
    op.execute("DROP FUNCTION rollup_days_track()")
    op.execute("DROP TABLE rollup_days")
    op.execute("DROP TABLE rollup_origin")
