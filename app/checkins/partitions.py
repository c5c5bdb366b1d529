"""Check-ins in monthly partitions on PostgreSQL (SQLite keeps one table).

`checkins` is range-partitioned by `local_date`, one partition a month (`checkins_YYYY_MM`),
and a DEFAULT partition that catches a fix of a month not made yet (nothing is ever refused
for want of a partition). `zhucun daily` makes the coming months ahead (`ensure_months`); a
month whose rows sit in the DEFAULT partition is made by moving them out first.

A unique key of a partitioned table must hold the partition key, so the idempotency key
(member, client_id) lives in `checkin_keys`, one unpartitioned table, filled by a statement
trigger on `checkins` in the inserting transaction: a resend is found there, whatever month the
first copy is in (or whether that month is still attached), and two inserts of one key cannot
both commit (docs/SCALING.md says why this and not UUIDv7 ids).

An old month can leave: `detach` seals it (per member, each run of consecutive chain positions
it holds: its first seq and the hash before it, its last seq and hash, after checking every
row's hash and link inside the run) in `checkin_sealed_runs`, then detaches the partition (to
a cold tablespace if named; `pg_dump -t checkins_YYYY_MM` takes it further). `audit verify`
bridges a chain's gap with the sealed runs; `attach` puts the month back and drops its seals.

Two more append-only histories that grow with the check-ins are partitioned the same way
(migration 0023), each with its DEFAULT partition and its months made ahead by the same job:

- `checkin_findings`, by the check-in's `local_date` (copied into the finding), in the very
  months of `checkins`: a month's findings are made, detached and attached with its check-ins
  (`checkin_findings_YYYY_MM`). Its unique key is (checkin_id, code, local_date), and a foreign
  key to the check-in's (id, local_date) makes local_date the check-in's own date: one finding
  of a code per check-in, as before. The foreign key is why a month moves in this order:
  findings out before check-ins, check-ins in before findings.
- `audit_access`, by `at`, in UTC months (`audit_access_YYYY_MM`: an instant has no local
  day, and the bounds then name the same instants whatever the server's zone). Its months are
  only made; none is detached (`audit verify` walks the whole access chain in seq order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from app.checkins import hashing

MONTHS_AHEAD = 3
DEFAULT_PARTITION = "checkins_default"


@dataclass(frozen=True)
class Family:
    """A table in monthly range partitions: `{table}_YYYY_MM` and `{table}_default`."""

    table: str
    key: str  # the partition key's column
    instant: bool = False  # the key is a timestamptz (months in UTC), not a date

    @property
    def default(self) -> str:
        return f"{self.table}_default"

    def name(self, month: date) -> str:
        return f"{self.table}_{month.year:04d}_{month.month:02d}"

    def bound(self, day: date) -> str:
        """A SQL literal of the partition key at the start of `day`."""
        return f"TIMESTAMPTZ '{day} 00:00:00+00'" if self.instant else f"DATE '{day}'"

    def month_of_key(self) -> str:
        """SQL: the month of a row's key, as a date."""
        if self.instant:
            return f"date_trunc('month', {self.key} AT TIME ZONE 'UTC')::date"
        return f"date_trunc('month', {self.key})::date"


CHECKINS = Family("checkins", "local_date")
FINDINGS = Family("checkin_findings", "local_date")
ACCESS = Family("audit_access", "at", instant=True)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def partition_name(month: date) -> str:
    return f"checkins_{month.year:04d}_{month.month:02d}"


def parse_month(value: str) -> date:
    """YYYY-MM → the month's first day (ValueError otherwise)."""
    year, month = value.split("-")
    return date(int(year), int(month), 1)


def is_partitioned(connection: Connection, family: Family = CHECKINS) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    kind = connection.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": family.table}
    ).scalar()
    return kind == "p"


def attached_months(connection: Connection, family: Family = CHECKINS) -> list[date]:
    """The months attached to the family's table, oldest first."""
    names = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:t AS regclass)"
        ),
        {"t": family.table},
    ).scalars()
    pattern = re.compile(rf"^{family.table}_(\d{{4}})_(\d{{2}})$")
    months = []
    for name in names:
        match = pattern.match(name)
        if match:
            months.append(date(int(match[1]), int(match[2]), 1))
    return sorted(months)


def _fill(connection: Connection, family: Family, month: date) -> str:
    """A table for the month, filled with the month's rows moved out of the DEFAULT
    partition (to be attached by `_attach`): CREATE … PARTITION OF would fail while the
    DEFAULT partition holds a row of the month."""
    name, lo, hi = family.name(month), family.bound(month), family.bound(next_month(month))
    connection.execute(text(f"CREATE TABLE {name} (LIKE {family.table} INCLUDING DEFAULTS)"))
    connection.execute(
        text(
            f"WITH moved AS (DELETE FROM {family.default} "
            f"WHERE {family.key} >= {lo} AND {family.key} < {hi} RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved"
        )
    )
    return name


def _attach(connection: Connection, family: Family, month: date) -> None:
    name, lo, hi = family.name(month), family.bound(month), family.bound(next_month(month))
    # The constraint lets ATTACH skip its scan of the new table.
    connection.execute(
        text(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds "
            f"CHECK ({family.key} >= {lo} AND {family.key} < {hi})"
        )
    )
    connection.execute(
        text(f"ALTER TABLE {family.table} ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})")
    )
    connection.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds"))


def ensure_month(connection: Connection, month: date) -> bool:
    """Make the month's partition of check-ins, and of their findings, unless attached; True
    when one was made. Rows of the month held by a DEFAULT partition move into it (in this
    transaction)."""
    month = month_start(month)
    families = [CHECKINS]
    if is_partitioned(connection, FINDINGS):
        families.append(FINDINGS)
    todo = [fam for fam in families if month not in attached_months(connection, fam)]
    if not todo:
        return False
    # No row of the month may land in a DEFAULT partition between the move and the attach.
    for family in todo:
        connection.execute(text(f"LOCK TABLE {family.default} IN SHARE MODE"))
    # Findings out of the DEFAULT partition before their check-ins (their foreign key),
    # check-ins attached before their findings.
    for family in reversed(todo):
        _fill(connection, family, month)
    for family in todo:
        _attach(connection, family, month)
    return True


def _wanted(connection: Connection, family: Family, today: date, ahead: int) -> set[date]:
    wanted, month = set(), month_start(today)
    for _ in range(ahead + 1):
        wanted.add(month)
        month = next_month(month)
    stray = connection.execute(
        text(f"SELECT DISTINCT {family.month_of_key()} FROM {family.default}")
    ).scalars()
    wanted.update(stray)
    return wanted


def ensure_months(connection: Connection, today: date, ahead: int = MONTHS_AHEAD) -> list[date]:
    """This month and `ahead` more, and every month the DEFAULT partition holds rows of (a
    late fix, a back-filled history), made where missing for the check-ins and their findings
    (the daily job). Returns those made."""
    wanted = _wanted(connection, CHECKINS, today, ahead)
    if is_partitioned(connection, FINDINGS):
        wanted |= _wanted(connection, FINDINGS, today, ahead)
    return [m for m in sorted(wanted) if ensure_month(connection, m)]


def ensure_access_months(
    connection: Connection, today_utc: date, ahead: int = MONTHS_AHEAD
) -> list[date]:
    """The access log's months (UTC), as `ensure_months` the check-ins'. Returns those made;
    nothing before migration 0023."""
    if not is_partitioned(connection, ACCESS):
        return []
    made = []
    for month in sorted(_wanted(connection, ACCESS, today_utc, ahead)):
        if month in attached_months(connection, ACCESS):
            continue
        connection.execute(text(f"LOCK TABLE {ACCESS.default} IN SHARE MODE"))
        _fill(connection, ACCESS, month)
        _attach(connection, ACCESS, month)
        made.append(month)
    return made


# --- detaching and re-attaching an old month ------------------------------------------------


class PartitionRefused(Exception):
    """A month that cannot be detached or attached (the reason in the message)."""


@dataclass(frozen=True)
class SealedRun:
    member_id: int
    first_seq: int
    prev_hash: str  # the hash the run's first row links to
    last_seq: int
    last_hash: str
    rows: int


def detach(
    session: Session, month: date, today: date, max_age_days: int, tablespace: str | None = None
) -> int:
    """Seal and detach the month (kept as table `checkins_YYYY_MM`, moved to `tablespace` if
    named). Only a month no fix can still arrive for (older than the upload window). Returns
    the runs sealed."""
    connection = session.connection()
    month = month_start(month)
    name = partition_name(month)
    if month not in attached_months(connection):
        raise PartitionRefused(f"{name} is not attached")
    if next_month(month) > today - timedelta(days=max_age_days + 1):
        raise PartitionRefused(
            f"{name} is within the upload window ({max_age_days} days): fixes can still arrive"
        )
    runs = seal(session, month, today, max_age_days)
    names = [name]
    # The month's findings leave with it (first: their foreign key refers to its rows). The
    # detached table keeps a copy of the key, which would hold the check-ins' month back.
    findings = FINDINGS.name(month)
    if month in attached_months(connection, FINDINGS):
        connection.execute(text(f"ALTER TABLE checkin_findings DETACH PARTITION {findings}"))
        for fk in connection.execute(
            text(
                "SELECT conname FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' AND conparentid = 0"
            ),
            {"t": findings},
        ).scalars():
            connection.execute(text(f'ALTER TABLE {findings} DROP CONSTRAINT "{fk}"'))
        names.append(findings)
    connection.execute(text(f"ALTER TABLE checkins DETACH PARTITION {name}"))
    if tablespace:
        for table in names:
            connection.execute(text(f'ALTER TABLE {table} SET TABLESPACE "{tablespace}"'))
    return runs


def sealed_months(connection: Connection) -> set[date]:
    return set(connection.execute(text("SELECT DISTINCT month FROM checkin_sealed_runs")).scalars())


def seal(session: Session, month: date, today: date, max_age_days: int) -> int:
    """Check the attached month row by row and record its runs (once: a sealed month is not
    sealed again). `audit verify --since` then reads only the months after the sealed ones.
    Returns the runs sealed (0 when sealed before)."""
    connection = session.connection()
    month = month_start(month)
    name = partition_name(month)
    if month not in attached_months(connection):
        raise PartitionRefused(f"{name} is not attached")
    if next_month(month) > today - timedelta(days=max_age_days + 1):
        raise PartitionRefused(
            f"{name} is within the upload window ({max_age_days} days): fixes can still arrive"
        )
    # Nothing of the month may change while it is read and sealed.
    connection.execute(text(f"LOCK TABLE {name} IN SHARE MODE"))
    if month in sealed_months(connection):
        return 0
    runs = seal_runs(session, name)
    if runs:
        connection.execute(
            text(
                "INSERT INTO checkin_sealed_runs (month, member_id, first_seq, prev_hash, "
                "last_seq, last_hash, rows) VALUES (:month, :member_id, :first_seq, "
                ":prev_hash, :last_seq, :last_hash, :rows)"
            ),
            [{"month": month, **run.__dict__} for run in runs],
        )
    return len(runs)


def seal_past_months(session: Session, today: date, max_age_days: int) -> list[date]:
    """Seal every attached month that no fix can arrive for any more (the daily job)."""
    connection = session.connection()
    done = sealed_months(connection)
    limit = today - timedelta(days=max_age_days + 1)
    todo = [m for m in attached_months(connection) if next_month(m) <= limit and m not in done]
    for month in todo:
        seal(session, month, today, max_age_days)
    return todo


def first_unsealed_month(connection: Connection) -> date | None:
    """The first attached month after every sealed one (`audit verify --since` from there)."""
    done = sealed_months(connection)
    for month in attached_months(connection):
        if month not in done:
            return month
    return None


def attach(session: Session, month: date) -> None:
    """Re-attach a detached month and drop its seals (its rows are verified with the rest)."""
    connection = session.connection()
    month = month_start(month)
    name = partition_name(month)
    if month in attached_months(connection):
        raise PartitionRefused(f"{name} is attached already")
    findings = FINDINGS.name(month)
    tables = [name]
    with_findings = is_partitioned(connection, FINDINGS)
    if with_findings and month not in attached_months(connection, FINDINGS):
        tables.append(findings)
    for table in tables:
        if connection.execute(text("SELECT to_regclass(:n)"), {"n": table}).scalar() is None:
            restore = " ".join(f"-t {t}" for t in tables)
            raise PartitionRefused(f"no table {table}: restore it first (pg_restore {restore})")
    lo, hi = month, next_month(month)
    connection.execute(
        text(f"ALTER TABLE checkins ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')")
    )
    if findings in tables:
        # After the check-ins: attaching re-makes the foreign key, checked against them.
        connection.execute(
            text(
                f"ALTER TABLE checkin_findings ATTACH PARTITION {findings} "
                f"FOR VALUES FROM ('{lo}') TO ('{hi}')"
            )
        )
    connection.execute(text("DELETE FROM checkin_sealed_runs WHERE month = :m"), {"m": month})


def seal_runs(session: Session, table: str) -> list[SealedRun]:
    """The runs of consecutive seq per member in `table`, each row's hash and link checked
    (PartitionRefused on the first broken one: a broken month is not sealed)."""
    result = session.execute(
        text(f"SELECT * FROM {table} ORDER BY member_id, seq").execution_options(yield_per=5000)
    )
    runs: list[SealedRun] = []
    current: dict[str, Any] | None = None
    for mapping in result.mappings():
        row = dict(mapping)
        if hashing.row_hash(row) != row["row_hash"]:
            raise PartitionRefused(
                f"member {row['member_id']}, seq {row['seq']}: the row hash does not match "
                "its content; run `zhucun audit verify`"
            )
        if (
            current is not None
            and current["member_id"] == row["member_id"]
            and current["last_seq"] + 1 == row["seq"]
        ):
            if row["prev_hash"] != current["last_hash"]:
                raise PartitionRefused(
                    f"member {row['member_id']}, seq {row['seq']}: prev_hash does not match; "
                    "run `zhucun audit verify`"
                )
            current.update(last_seq=row["seq"], last_hash=row["row_hash"])
            current["rows"] += 1
            continue
        if current is not None:
            runs.append(SealedRun(**current))
        current = {
            "member_id": row["member_id"],
            "first_seq": row["seq"],
            "prev_hash": row["prev_hash"],
            "last_seq": row["seq"],
            "last_hash": row["row_hash"],
            "rows": 1,
        }
    if current is not None:
        runs.append(SealedRun(**current))
    return runs


def sealed_runs(session: Session) -> dict[int, dict[int, SealedRun]]:
    """Every sealed run, by member and first seq (empty on SQLite or before any detach)."""
    if not is_partitioned(session.connection()):
        return {}
    out: dict[int, dict[int, SealedRun]] = {}
    rows = session.execute(
        text(
            "SELECT member_id, first_seq, prev_hash, last_seq, last_hash, rows "
            "FROM checkin_sealed_runs"
        )
    )
    for r in rows:
        out.setdefault(r.member_id, {})[r.first_seq] = SealedRun(*r)
    return out


def check_sealed_before(connection: Connection, since: date) -> date:
    """`since`'s month, once sure that everything before it is sealed: every attached month
    before it, and no row of the DEFAULT partition before it (PartitionRefused otherwise)."""
    month = month_start(since)
    if not is_partitioned(connection):
        raise PartitionRefused("check-ins are not partitioned here (SQLite): verify them all")
    done = sealed_months(connection)
    open_ = [m for m in attached_months(connection) if m < month and m not in done]
    if open_:
        raise PartitionRefused(
            f"{partition_name(open_[0])} is not sealed: seal it, or verify from {open_[0]:%Y-%m}"
        )
    stray = connection.execute(
        text(f"SELECT 1 FROM {DEFAULT_PARTITION} WHERE local_date < :m LIMIT 1"), {"m": month}
    ).first()
    if stray is not None:
        raise PartitionRefused("the DEFAULT partition holds older rows: make their months first")
    return month
