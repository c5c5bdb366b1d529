"""Check-ins in monthly partitions (PostgreSQL): the idempotency key across months, partitions
made ahead, queries that read only the months they need, an old month detached and
re-attached with the chains verified across it, the conversion of a database in place."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from app.checkins import partitions, reading, storing
from app.checkins.audit import chains_statement, verify_chains
from app.checkins.schemas import CheckInCreate
from app.core.migrate import downgrade, upgrade
from app.core.policy import Policy
from app.core.time import local_date, today
from app.ledger.refresh import _DAY_FIXES
from tests.checkins.helpers import fix
from tests.org.helpers import zhucun

pytestmark = pytest.mark.postgis


def _record(db, policy, member_id: int, received: datetime, n: int = 1) -> list[dict[str, Any]]:
    """`n` fixes of the member as if received at `received` (a minute apart before it)."""
    bodies = []
    for i in range(n):
        body = fix(at=received - timedelta(minutes=n - i))
        storing.record(db, policy, member_id, CheckInCreate.model_validate(body), received)
        bodies.append(body)
    db.commit()
    return bodies


def _months_scanned(plan: Any) -> set[str]:
    """The partitions a JSON plan reads."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            name = node.get("Relation Name")
            if isinstance(name, str) and name.startswith("checkins_"):
                found.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan)
    return found


@contextmanager
def _statements(engine) -> Iterator[list[tuple[str, Any]]]:
    """The statements on `checkins` the engine sends meanwhile, with their parameters."""
    sent: list[tuple[str, Any]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM checkins" in statement and not statement.startswith("EXPLAIN"):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def _explain(db, statement: str, parameters: Any) -> set[str]:
    connection = db.connection()
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
    return _months_scanned(plan if not isinstance(plan, str) else json.loads(plan))


def _ensure(db, *days: date) -> None:
    for day in days:
        partitions.ensure_month(db.connection(), day)
    db.commit()


def test_checkins_are_in_monthly_partitions_made_ahead(db):
    connection = db.connection()
    assert partitions.is_partitioned(connection)
    months = partitions.attached_months(connection)
    month = partitions.month_start(today(Policy().zone))
    for _ in range(4):
        assert month in months
        month = partitions.next_month(month)


def test_a_resend_of_a_fix_from_a_month_ago_is_still_a_duplicate(world, db, policy):
    alice = world.members["alice"].id
    month_ago = datetime.now(UTC) - timedelta(days=29)
    _ensure(db, month_ago.date())
    first = world.post("alice", "/checkins", json=fix(at=month_ago))
    assert first.status_code == 201, first.text
    stored = first.json()
    body = json.loads(first.request.content)
    # Another month's partition than today's (from the 1st to the 29th of a month: the last).
    where = db.execute(
        text("SELECT tableoid::regclass::text FROM checkins WHERE id = :i"), {"i": stored["id"]}
    ).scalar()
    assert where == partitions.partition_name(partitions.month_start(month_ago.date()))
    again = world.post("alice", "/checkins", json=body)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == stored["id"]
    batch = world.post("alice", "/checkins/batch", json={"items": [body]})
    assert batch.json()["results"][0]["status"] == "duplicate"
    count = db.execute(
        text("SELECT count(*) FROM checkins WHERE member_id = :m AND client_id = :c"),
        {"m": alice, "c": body["client_id"]},
    ).scalar()
    assert count == 1
    db.commit()


def test_the_key_table_refuses_one_key_in_two_months(world, db, policy):
    """What a unique key of the partitioned table could not do: the same (member, client_id)
    under two local dates of different months is refused by the key the insert claims."""
    alice = world.members["alice"].id
    _record(db, policy, alice, datetime.now(UTC))
    row = (
        db.execute(text("SELECT * FROM checkins WHERE member_id = :m"), {"m": alice})
        .mappings()
        .one()
    )
    copy = dict(row) | {"id": None, "local_date": row["local_date"] - timedelta(days=40)}
    del copy["id"]
    names = ", ".join(copy)
    db.rollback()
    with pytest.raises(IntegrityError, match="pk_checkin_keys"):
        db.execute(
            text(f"INSERT INTO checkins ({names}) VALUES ({', '.join(':' + n for n in copy)})"),
            {k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in copy.items()},
        )
    db.rollback()


def test_the_ledger_refresh_and_the_members_list_read_only_their_months(world, db, engine, policy):
    alice = world.members["alice"].id
    now = datetime.now(UTC)
    days_ago = [3, 35, 70]
    _ensure(db, *((now - timedelta(days=d)).date() for d in days_ago))
    for d in days_ago:
        _record(db, policy, alice, now - timedelta(days=d), n=2)
    attached = partitions.attached_months(db.connection())
    assert len(attached) >= 6
    day = local_date(now - timedelta(days=35), policy.zone)  # the fixes' own local day
    own = {partitions.partition_name(partitions.month_start(day))}

    # The ledger refresh of a day reads that day's month alone.
    refresh = _DAY_FIXES.params(m=alice, lo=day, hi=day).compile(
        db.get_bind(), compile_kwargs={"literal_binds": True}
    )
    assert _explain(db, str(refresh), None) == own

    # The member's list of a period, first page and the next.
    with _statements(engine) as sent:
        page = reading.list_checkins(db, alice, day, day, None, 1)
        assert len(page) == 1
        after = (page[0].captured_at, page[0].id)
        reading.list_checkins(db, alice, day, day, after, 1)
    assert len(sent) == 2
    for statement, parameters in sent:
        assert _explain(db, statement, parameters) == own
    # Without a period, a page after a cursor skips the months after it.
    with _statements(engine) as sent:
        reading.list_checkins(db, alice, None, None, after, 5)
    scanned = _explain(db, *sent[0])
    assert own <= scanned
    assert len(scanned) < len(attached)
    db.rollback()


def test_an_old_month_detached_and_reattached_verifies_across(world, db, db_url, policy):
    alice, bob = world.members["alice"].id, world.members["bob"].id
    now = datetime.now(UTC)
    old = now - timedelta(days=70)
    _ensure(db, old.date(), (now - timedelta(days=35)).date())
    _record(db, policy, alice, old, n=3)
    old_bodies = _record(db, policy, bob, old, n=2)  # bob: every fix in the old month
    _record(db, policy, alice, now - timedelta(days=35), n=2)
    _record(db, policy, alice, now, n=2)
    month = partitions.month_start(old.date())
    name = partitions.partition_name(month)
    before = verify_chains(db)
    assert before.intact
    assert before.checkins == 9
    db.rollback()

    result = zhucun(db_url, "checkins", "detach", f"{month:%Y-%m}")
    assert result.exit_code == 0, result.output
    assert f"{name} detached: 2 run(s) sealed" in result.output
    assert month not in partitions.attached_months(db.connection())
    detached = db.execute(text(f"SELECT count(*) FROM {name}")).scalar()
    assert detached == 5
    report = verify_chains(db)
    assert report.intact, report.broken
    assert (report.chains, report.checkins) == (2, 9)
    db.rollback()
    verified = zhucun(db_url, "audit", "verify")
    assert verified.exit_code == 0, verified.output

    # A resend of a detached fix is refused as too old, never stored twice.
    resent = world.post("bob", "/checkins", json=old_bodies[0])
    assert resent.status_code == 422
    assert resent.json()["code"] == "too_old"

    # A seal that no longer matches the chain is found.
    db.execute(text("UPDATE checkin_sealed_runs SET last_hash = repeat('0', 64) WHERE rows = 3"))
    assert not verify_chains(db).intact
    db.rollback()

    # This month cannot leave: fixes still arrive for it.
    this = zhucun(db_url, "checkins", "detach", f"{today(Policy().zone):%Y-%m}")
    assert this.exit_code == 1
    assert "within the upload window" in this.output

    back = zhucun(db_url, "checkins", "attach", f"{month:%Y-%m}")
    assert back.exit_code == 0, back.output
    assert month in partitions.attached_months(db.connection())
    assert db.execute(text("SELECT count(*) FROM checkin_sealed_runs")).scalar() == 0
    after = verify_chains(db)
    assert after.intact
    assert after.checkins == 9
    db.rollback()


def test_a_fix_of_a_month_not_made_yet_waits_in_the_default_partition(world, db, policy):
    alice = world.members["alice"].id
    old = datetime.now(UTC) - timedelta(days=250)  # before any month the migration made
    month = partitions.month_start(old.date())
    assert month not in partitions.attached_months(db.connection())
    _record(db, policy, alice, old, n=2)
    assert db.execute(text("SELECT count(*) FROM checkins_default")).scalar() == 2
    db.commit()
    made = partitions.ensure_months(db.connection(), today(Policy().zone))  # the daily job
    assert month in made
    db.commit()
    assert db.execute(text("SELECT count(*) FROM checkins_default")).scalar() == 0
    name = partitions.partition_name(month)
    assert db.execute(text(f"SELECT count(*) FROM {name}")).scalar() == 2
    assert verify_chains(db).intact
    db.rollback()


def test_the_daily_job_makes_the_months_ahead(db, db_url):
    result = zhucun(db_url, "checkins", "partitions")
    assert result.exit_code == 0, result.output
    assert "month(s) attached" in result.output


def test_an_existing_database_is_converted_in_place(world, db, db_url, policy):
    alice, bob = world.members["alice"].id, world.members["bob"].id
    now = datetime.now(UTC)
    _record(db, policy, alice, now - timedelta(days=20), n=2)
    bodies = _record(db, policy, bob, now - timedelta(days=1), n=2)
    _record(db, policy, alice, now, n=1)
    db.close()

    downgrade(db_url, "0015")  # back to one table, with its rows
    kind = _scalar(db_url, "SELECT relkind FROM pg_class WHERE oid = 'checkins'::regclass")
    assert kind == "r"
    assert _scalar(db_url, "SELECT count(*) FROM checkins") == 5
    upgrade(db_url, "head")  # and converted in place
    assert _scalar(db_url, "SELECT relkind FROM pg_class WHERE oid = 'checkins'::regclass") == "p"
    assert _scalar(db_url, "SELECT count(*) FROM checkins") == 5
    assert _scalar(db_url, "SELECT count(*) FROM checkin_keys") == 5
    assert _scalar(db_url, "SELECT count(*) FROM checkins_default") == 0
    assert verify_chains(db).intact
    db.rollback()
    again = world.post("bob", "/checkins", json=bodies[0])
    assert again.status_code == 200, again.text
    new = world.post("bob", "/checkins", json=fix())
    assert new.status_code == 201, new.text
    # The id sequence went on from where it was.
    assert new.json()["id"] == _scalar(db_url, "SELECT max(id) FROM checkins")


def _scalar(db_url: str, sql: str, **params: Any) -> Any:
    from app.core.db import make_engine

    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def test_chain_verification_from_a_month_reads_only_the_months_after(world, db, db_url, policy):
    alice = world.members["alice"].id
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=70), now - timedelta(days=35)
    _ensure(db, old.date(), recent.date())
    for when in (old, recent, now):
        _record(db, policy, alice, when, n=2)
    since = partitions.month_start(recent.date())
    with pytest.raises(partitions.PartitionRefused, match="not sealed"):
        verify_chains(db, since=since)
    db.rollback()
    sealed = zhucun(db_url, "checkins", "seal", f"{old:%Y-%m}")
    assert sealed.exit_code == 0, sealed.output
    assert "sealed: 1 run(s)" in sealed.output

    compiled = chains_statement(since).compile(
        db.get_bind(), compile_kwargs={"literal_binds": True}
    )
    scanned = _explain(db, str(compiled), None)
    later = {partitions.partition_name(m) for m in partitions.attached_months(db.connection())}
    later = {n for n in later if n >= partitions.partition_name(since)}
    assert scanned == later | {partitions.DEFAULT_PARTITION}
    assert partitions.partition_name(partitions.month_start(old.date())) not in scanned

    report = verify_chains(db, since=since)
    assert report.intact, report.broken
    assert report.checkins == 6
    db.rollback()
    result = zhucun(db_url, "audit", "verify", "--since", f"{since:%Y-%m}")
    assert result.exit_code == 0, result.output

    # A row changed after the sealed months is found all the same.
    db.execute(
        text("UPDATE checkins SET accuracy_m = 99 WHERE member_id = :m AND local_date >= :d"),
        {"m": alice, "d": since},
    )
    assert not verify_chains(db, since=since).intact
    db.rollback()
