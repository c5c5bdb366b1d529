"""Issue 24 item 1, the rest: the check-ins' findings and the access log in monthly partitions
on PostgreSQL (migration 0023). Findings sit in their check-in's month and move with it; one
finding of a code per check-in holds as before; the access log sits in UTC months and its
chain verifies across them; reads with a date bound read only their months; the daily job
makes the months ahead; an existing database is converted in place."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError

from app.audit import access
from app.auth.principal import Principal
from app.checkins import findings, partitions, storing
from app.checkins.audit import verify_chains
from app.checkins.models import CheckIn, CheckInFinding
from app.checkins.schemas import CheckInCreate
from app.core.migrate import downgrade, upgrade
from app.core.policy import FlagPolicy, Policy
from app.core.time import local_date, today
from app.privacy import router as privacy_router
from tests.checkins.helpers import fix
from tests.org.helpers import zhucun

PHONE = "shared-phone-1"
FIND, ACC = partitions.FINDINGS, partitions.ACCESS


def _record(db, policy, member_id: int, at: datetime, **fields: Any) -> int:
    body = fix(at=at, **fields)
    stored, _ = storing.record(db, policy, member_id, CheckInCreate.model_validate(body), at)
    db.commit()
    return stored.id


def _finding(db, checkin_id: int, day: date, code: str = "replayed_track") -> dict[str, Any]:
    return {
        "checkin_id": checkin_id,
        "code": code,
        "matched_date": None,
        "evidence": {},
        "found_at": datetime.now(UTC),
        "local_date": day,
    }


def _where(db, table: str, column: str, value: Any) -> str:
    return db.execute(
        text(f"SELECT tableoid::regclass::text FROM {table} WHERE {column} = :v"), {"v": value}
    ).scalar()


def _scanned(plan: Any, prefix: str) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            name = node.get("Relation Name")
            if isinstance(name, str) and name.startswith(prefix):
                found.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan)
    return found


@contextmanager
def _statements(engine, table: str) -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if f"FROM {table}" in statement and not statement.startswith("EXPLAIN"):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def _explain(db, statement: str, parameters: Any, prefix: str) -> set[str]:
    plan = db.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
    value = plan.scalar()
    return _scanned(value if not isinstance(value, str) else json.loads(value), prefix)


@pytest.fixture(autouse=True)
def _drop_months_made(backend, engine, db) -> Iterator[None]:
    """Months this test made leave with it: partitions outlive a test's rows (the database is
    emptied between tests, not re-made), and an unsealed old month would stand in the way of
    `audit verify --since` in tests/checkins/test_partitions.py."""
    if backend != "postgis":
        yield
        return
    families = (FIND, partitions.CHECKINS, ACC)  # findings before their check-ins

    def months() -> dict[partitions.Family, set[date]]:
        with engine.connect() as connection:
            return {f: set(partitions.attached_months(connection, f)) for f in families}

    before = months()
    yield
    db.rollback()
    db.close()
    after = months()
    with engine.begin() as connection:
        for family in families:
            for month in sorted(after[family] - before[family]):
                name = family.name(month)
                connection.execute(text(f"ALTER TABLE {family.table} DETACH PARTITION {name}"))
                connection.execute(text(f"DROP TABLE {name}"))


def _ensure(db, *days: date) -> None:
    for day in days:
        partitions.ensure_month(db.connection(), day)
    db.commit()


# --- both backends ------------------------------------------------------------------------


def test_a_second_finding_of_a_code_on_a_fix_is_ignored_and_refused(world, db):
    def post(who: str, village: str, hours: int) -> int:
        body = fix(village, ago=timedelta(hours=hours), device_id=PHONE)
        answer = world.post(who, "/checkins", json=body)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    checkin = post("alice", "430121001001", 3)
    post("carol", "430121002001", 2)  # alice's phone: a shared_device finding beside her fix
    post("bob", "430121001002", 1)  # again: the writer's insert ignores the second one
    rows = db.execute(
        select(CheckInFinding.code).where(CheckInFinding.checkin_id == checkin)
    ).scalars()
    assert list(rows) == ["shared_device"]
    day = db.scalar(select(CheckIn.local_date).where(CheckIn.id == checkin))
    db.rollback()
    # A plain insert is refused by the unique key.
    db.add(CheckInFinding(**_finding(db, checkin, day, code="shared_device")))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    # Another code on the same fix is another finding.
    db.add(CheckInFinding(**_finding(db, checkin, day, code="replayed_track")))
    db.commit()
    assert len(findings.findings_for(db, [checkin], [day])[checkin]) == 2
    assert len(findings.findings_for(db, [checkin])[checkin]) == 2
    db.rollback()


def test_the_access_log_of_a_period(world, db):
    alice = world.members["alice"].id
    world.post("alice", "/checkins", json=fix())
    assert world.get("township1", "/checkins", params={"member_id": alice}).status_code == 200
    here = today(Policy().zone)
    params = {"subject_member_id": alice}
    got = world.get("admin", "/audit/access-log", params=params | {"from": str(here)})
    assert len(got.json()["items"]) == 1
    yesterday = str(here - timedelta(days=1))
    got = world.get("admin", "/audit/access-log", params=params | {"to": yesterday})
    assert got.json()["items"] == []
    mine = world.get("alice", "/me/access-log", params={"from": str(here), "to": str(here)})
    assert len(mine.json()["items"]) == 1
    bad = world.get("alice", "/me/access-log", params={"from": "2026-13-01"})
    assert bad.status_code == 422


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.postgis
def test_findings_and_the_access_log_are_in_monthly_partitions_made_ahead(db):
    connection = db.connection()
    assert partitions.is_partitioned(connection, FIND)
    assert partitions.is_partitioned(connection, ACC)
    # The findings' months are the check-ins' months.
    assert partitions.attached_months(connection, FIND) == partitions.attached_months(connection)
    local = partitions.month_start(today(Policy().zone))
    utc = partitions.month_start(datetime.now(UTC).date())
    access_months = partitions.attached_months(connection, ACC)
    for _ in range(4):
        assert local in partitions.attached_months(connection, FIND)
        assert utc in access_months
        local, utc = partitions.next_month(local), partitions.next_month(utc)


@pytest.mark.postgis
def test_new_rows_land_in_their_months(world, db, policy):
    alice, carol = world.members["alice"].id, world.members["carol"].id
    now = datetime.now(UTC)
    old = now - timedelta(days=40)
    _ensure(db, old.date(), (old + timedelta(days=1)).date())
    first = _record(db, policy, alice, old, device_id=PHONE)
    # Carol's fix a day later from alice's phone: a shared_device finding beside alice's fix.
    _record(db, policy, carol, old + timedelta(days=1), device_id=PHONE)
    alice_day = db.scalar(select(CheckIn.local_date).where(CheckIn.id == first))
    (found,) = db.execute(select(CheckInFinding).where(CheckInFinding.checkin_id == first)).all()
    assert found[0].local_date == alice_day
    assert _where(db, "checkin_findings", "checkin_id", first) == FIND.name(alice_day)
    # An access-log entry, in this UTC month.
    assert world.get("township1", "/checkins", params={"member_id": alice}).status_code == 200
    seq = db.scalar(text("SELECT max(seq) FROM audit_access"))
    assert _where(db, "audit_access", "seq", seq) == ACC.name(now.date())
    db.rollback()


@pytest.mark.postgis
def test_a_finding_must_carry_its_check_ins_date(world, db, policy):
    """The foreign key to the check-in's (id, local_date): a finding under another date (which
    the unique key would let in twice) is refused."""
    alice = world.members["alice"].id
    checkin = _record(db, policy, alice, datetime.now(UTC))
    day = db.scalar(select(CheckIn.local_date).where(CheckIn.id == checkin))
    db.add(CheckInFinding(**_finding(db, checkin, day)))
    db.commit()
    db.add(CheckInFinding(**_finding(db, checkin, day - timedelta(days=40))))
    with pytest.raises(IntegrityError, match="fk_checkin_findings_checkin_day_checkins"):
        db.commit()
    db.rollback()


@pytest.mark.postgis
def test_reads_with_a_date_bound_read_only_their_months(world, db, engine, policy):
    alice = world.members["alice"].id
    now = datetime.now(UTC)
    days_ago = [3, 35, 70]
    _ensure(db, *((now - timedelta(days=d)).date() for d in days_ago))
    ids = []
    for d in days_ago:
        checkin = _record(db, policy, alice, now - timedelta(days=d))
        day = db.scalar(select(CheckIn.local_date).where(CheckIn.id == checkin))
        db.add(CheckInFinding(**_finding(db, checkin, day)))
        db.commit()
        ids.append((checkin, day))
    assert len(partitions.attached_months(db.connection(), FIND)) >= 6

    # The findings of a member's days (as a list of check-ins reads them).
    checkin, day = ids[1]
    with _statements(engine, "checkin_findings") as sent:
        assert len(findings.findings_for(db, [checkin], [day])[checkin]) == 1
    (statement,) = sent
    assert _explain(db, *statement, prefix="checkin_findings") == {FIND.name(day)}

    # The compliance count of a quarter's serious fixes found later: the quarter's months.
    from app.compliance import sources

    strict = Policy(flags=FlagPolicy(serious=("replayed_track",)))
    with _statements(engine, "checkin_findings") as sent:
        found = sources.suspicious_checkins(db, strict, [alice], day, day)
    assert found
    scanned = set().union(*(_explain(db, *s, prefix="checkin_findings") for s in sent))
    assert scanned == {FIND.name(day)}
    db.rollback()

    # The access log of a member within a period: entries of three months.
    for months_ago in (0, 1, 2):
        at = now - timedelta(days=31 * months_ago)
        partitions.ensure_access_months(db.connection(), at.date(), ahead=0)
        access.append(db, [access._Pending(at, 1, "county", alice, None, "checkins.list", None)])
        db.commit()
    assert access.verify_access(db, None).intact
    middle = local_date(now - timedelta(days=31), policy.zone)  # from/to are local days
    principal = Principal(1, "", "admin", "", None)
    with _statements(engine, "audit_access") as sent:
        page = privacy_router.access_log(
            principal, db, policy, None, None, alice, middle, middle, None, 50
        )
    assert len(page.items) == 1
    (statement,) = sent
    scanned = _explain(db, *statement, prefix="audit_access")
    # The day's month (its local midnight may fall in the UTC month before).
    assert ACC.name(middle) in scanned
    assert len(scanned) <= 2
    assert ACC.name(now.date()) not in scanned
    db.rollback()


@pytest.mark.postgis
def test_a_detached_month_takes_its_findings_along(world, db, db_url, policy):
    alice = world.members["alice"].id
    now = datetime.now(UTC)
    old = now - timedelta(days=70)
    _ensure(db, old.date())
    checkin = _record(db, policy, alice, old)
    _record(db, policy, alice, now)
    day = db.scalar(select(CheckIn.local_date).where(CheckIn.id == checkin))
    db.add(CheckInFinding(**_finding(db, checkin, day)))
    db.commit()
    month = partitions.month_start(day)

    result = zhucun(db_url, "checkins", "detach", f"{month:%Y-%m}")
    assert result.exit_code == 0, result.output
    connection = db.connection()
    assert month not in partitions.attached_months(connection, FIND)
    assert db.execute(text(f"SELECT count(*) FROM {FIND.name(month)}")).scalar() == 1
    assert db.execute(text("SELECT count(*) FROM checkin_findings")).scalar() == 0
    assert verify_chains(db).intact
    db.rollback()

    back = zhucun(db_url, "checkins", "attach", f"{month:%Y-%m}")
    assert back.exit_code == 0, back.output
    assert month in partitions.attached_months(db.connection(), FIND)
    assert findings.findings_for(db, [checkin], [day])[checkin][0].code == "replayed_track"
    # The foreign key is back on the month.
    db.add(CheckInFinding(**_finding(db, checkin, day - timedelta(days=1), code="x")))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


@pytest.mark.postgis
def test_rows_of_a_month_not_made_yet_move_out_of_the_default_partitions(world, db, policy):
    alice = world.members["alice"].id
    old = datetime.now(UTC) - timedelta(days=250)  # before any month the migrations made
    month = partitions.month_start(old.date())
    assert month not in partitions.attached_months(db.connection(), FIND)
    checkin = _record(db, policy, alice, old)
    day = db.scalar(select(CheckIn.local_date).where(CheckIn.id == checkin))
    db.add(CheckInFinding(**_finding(db, checkin, day)))
    db.commit()
    assert db.execute(text("SELECT count(*) FROM checkin_findings_default")).scalar() == 1
    access.append(db, [access._Pending(old, 1, "county", alice, None, "checkins.list", None)])
    db.commit()
    assert db.execute(text("SELECT count(*) FROM audit_access_default")).scalar() == 1

    made = partitions.ensure_months(db.connection(), today(Policy().zone))  # the daily job
    assert partitions.month_start(day) in made
    made_access = partitions.ensure_access_months(db.connection(), datetime.now(UTC).date())
    assert partitions.month_start(old.date()) in made_access
    db.commit()
    for table in ("checkins_default", "checkin_findings_default", "audit_access_default"):
        assert db.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    assert _where(db, "checkin_findings", "checkin_id", checkin) == FIND.name(day)
    assert access.verify_access(db, None).intact
    db.rollback()


@pytest.mark.postgis
def test_the_daily_job_makes_the_months_ahead_for_findings_and_the_access_log(db, db_url):
    connection = db.connection()
    last_local = partitions.attached_months(connection, FIND)[-1]
    last_utc = partitions.attached_months(connection, ACC)[-1]
    for family, month in ((FIND, last_local), (ACC, last_utc)):
        db.execute(text(f"ALTER TABLE {family.table} DETACH PARTITION {family.name(month)}"))
        db.execute(text(f"DROP TABLE {family.name(month)}"))
    db.commit()
    result = zhucun(db_url, "checkins", "partitions")
    assert result.exit_code == 0, result.output
    assert f"access log months made: {last_utc:%Y-%m}" in result.output
    connection = db.connection()
    assert last_local in partitions.attached_months(connection, FIND)
    assert last_utc in partitions.attached_months(connection, ACC)
    db.rollback()


@pytest.mark.postgis
def test_an_existing_database_is_converted_in_place(world, db, db_url, policy):
    alice, carol = world.members["alice"].id, world.members["carol"].id
    now = datetime.now(UTC)
    first = _record(db, policy, alice, now - timedelta(days=2), device_id=PHONE)
    _record(db, policy, carol, now - timedelta(days=1), device_id=PHONE)
    for _ in range(3):
        assert world.get("county", "/checkins", params={"member_id": alice}).status_code == 200
    db.close()

    downgrade(db_url, "0022")  # back to plain tables, with their rows
    for table in ("checkin_findings", "audit_access"):
        assert (
            _scalar(db_url, f"SELECT relkind FROM pg_class WHERE oid = '{table}'::regclass") == "r"
        )
    assert _scalar(db_url, "SELECT count(*) FROM checkin_findings") == 1
    assert _scalar(db_url, "SELECT count(*) FROM audit_access") == 3
    upgrade(db_url, "head")  # and converted in place
    for table in ("checkin_findings", "audit_access"):
        assert (
            _scalar(db_url, f"SELECT relkind FROM pg_class WHERE oid = '{table}'::regclass") == "p"
        )
    assert _scalar(db_url, "SELECT count(*) FROM checkin_findings") == 1
    assert _scalar(db_url, "SELECT count(*) FROM audit_access") == 3
    for table in ("checkin_findings_default", "audit_access_default"):
        assert _scalar(db_url, f"SELECT count(*) FROM {table}") == 0
    day = db.scalar(select(CheckIn.local_date).where(CheckIn.id == first))
    assert db.scalar(select(CheckInFinding.local_date)) == day
    assert access.verify_access(db, None).intact
    db.rollback()
    verified = zhucun(db_url, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    # The log goes on after its head; the duplicate finding is still refused.
    assert world.get("county", "/checkins", params={"member_id": alice}).status_code == 200
    assert _scalar(db_url, "SELECT max(seq) FROM audit_access") == 4
    assert access.verify_access(db, None).intact
    db.rollback()
    db.add(CheckInFinding(**_finding(db, first, day, code="shared_device")))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    # A new finding takes the id sequence on from where it was (the one before is id 1).
    added = CheckInFinding(**_finding(db, first, day))
    db.add(added)
    db.commit()
    assert added.id > 1


def _kind(db_url: str, table: str) -> str:
    return str(_scalar(db_url, f"SELECT relkind FROM pg_class WHERE oid = '{table}'::regclass"))


def _scalar(db_url: str, sql: str) -> Any:
    from app.core.db import make_engine

    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()
