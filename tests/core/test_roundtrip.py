"""app.core.roundtrip against the real database: the statements of a trip run in order in one
message, values survive the literal encoding of prepared EXECUTEs exactly, and a statement
built per call is never prepared."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    bindparam,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql

from app.checkins.fast_path import open_uploads
from app.core.config import Settings
from app.core.db import make_engine, make_session_factory
from app.core.policy import Policy
from app.core.roundtrip import RoundTrip

pytestmark = pytest.mark.postgis

_TEXT = select(cast(bindparam("v", type_=String()), String()))
_FLOAT = select(cast(bindparam("v", type_=Float()), Float()))
_INT = select(cast(bindparam("v", type_=Integer()), Integer()))
_BOOL = select(cast(bindparam("v", type_=Boolean()), Boolean()))
_INSTANT = select(cast(bindparam("v", type_=DateTime(timezone=True)), DateTime(timezone=True)))
_DAY = select(cast(bindparam("v", type_=Date()), Date()))
_TEXTS = select(func.array_to_json(bindparam("v", type_=postgresql.ARRAY(String()))))

TEXTS = [
    "",
    "plain",
    "it's",
    "''",
    "'; DROP TABLE checkins; --",
    "back\\slash",
    "\\'",
    "东山村 第一书记",
    "emoji 🚜",
    "line\nbreak\ttab",
    "$1",
    "%s %(v)s",
]
CASES: list[tuple[Any, list[Any]]] = [
    (_TEXT, TEXTS),
    (_FLOAT, [0.0, -0.0, 1.5, 1e-300, 1e308, 28.310000000000002, -113.05000000000001]),
    (_INT, [0, -1, 2**31 - 1, -(2**31)]),
    (_BOOL, [True, False]),
    (
        _INSTANT,
        [
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=8))),
            datetime(2000, 2, 29, 12, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        ],
    ),
    (_DAY, [date(2000, 1, 1), date(2099, 12, 31)]),
]
# Text arrays (the client_ids of an upload), read back as JSON arrays: element for element.
TEXT_ARRAYS = [["only"], TEXTS, ["", "NULL", "{a,b}", '"quoted"', "ARRAY[1]"], []]


def test_values_come_back_exactly_through_prepared_statements(db):
    for statement, values in CASES:
        # Twice: the first run sends the SQL, later ones EXECUTE the prepared statement.
        for _ in range(2):
            trip = RoundTrip(db)
            answers = [trip.add(statement, {"v": value}) for value in [*values, None]]
            trip.run()
            got = [answer.scalar() for answer in answers]
            assert got == [*values, None]
    for _ in range(2):
        trip = RoundTrip(db)
        answers = [trip.add(_TEXTS, {"v": value}) for value in TEXT_ARRAYS]
        trip.run()
        assert [answer.scalar() for answer in answers] == TEXT_ARRAYS
    db.rollback()


_ONLY_HERE = select(cast(bindparam("v", type_=Integer()), Integer()) + 1)


def _prepared(db: Any) -> set[str]:
    return set(db.execute(text("SELECT name FROM pg_prepared_statements")).scalars())


def test_a_statement_is_prepared_when_used_again_and_one_built_per_call_never(db):
    db.execute(text("SELECT 1"))  # the connection this test's trips run on
    before = _prepared(db)
    for i in range(3):  # a new statement object each time, as a per-call DELETE … IN is
        trip = RoundTrip(db)
        answer = trip.add(select(cast(bindparam("v", type_=Integer()), Integer()) + 1), {"v": i})
        trip.run()
        assert answer.scalar() == i + 1
    assert _prepared(db) == before
    for i in range(3):
        trip = RoundTrip(db)
        answer = trip.add(_ONLY_HERE, {"v": i})
        trip.run()
        assert answer.scalar() == i + 1
    assert len(_prepared(db) - before) == 1
    db.rollback()


_AGAIN = select(cast(bindparam("v", type_=Integer()), Integer()) * 2)


def test_behind_a_transaction_pooler_nothing_is_prepared(db_url, monkeypatch):
    """ZHUCUN_DB_POOLER=transaction (PgBouncer in transaction mode): the statements that would
    be prepared go as SQL every time, values intact, and the connection holds no prepared
    statement. tests/deploy/test_pgbouncer.py runs the service so, through PgBouncer."""
    monkeypatch.setenv("ZHUCUN_DB_POOLER", "transaction")
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            session.execute(text("SELECT 1"))
            assert session.execute(text("SHOW plan_cache_mode")).scalar() == "auto"  # no options
            for statement, values in CASES:
                if statement is _INT:
                    # psycopg's client-side binding writes -2**31 as ` -2147483648::INTEGER`,
                    # which PostgreSQL reads as -(2147483648::INTEGER): out of range. No id,
                    # count or seq of ours is negative; the prepared path binds it exactly.
                    values = [v for v in values if v != -(2**31)]
                for _ in range(3):  # the second and third would EXECUTE a prepared one
                    trip = RoundTrip(session)
                    answers = [trip.add(statement, {"v": value}) for value in [*values, None]]
                    trip.run()
                    assert [answer.scalar() for answer in answers] == [*values, None]
            for i in range(3):
                trip = RoundTrip(session)
                answer = trip.add(_AGAIN, {"v": i})
                trip.run()
                assert answer.scalar() == 2 * i
            assert _prepared(session) == set()
            session.rollback()
    finally:
        engine.dispose()


def test_the_upload_pool_prepares_nothing_behind_a_transaction_pooler(db_url, monkeypatch):
    monkeypatch.setenv("ZHUCUN_DB_POOLER", "transaction")
    engine = make_engine(db_url)

    async def run() -> set[str]:
        uploads = await open_uploads(engine, Settings(upload_connections=1), Policy())
        assert uploads is not None
        try:
            async with uploads.pool.connection() as conn:
                for i in range(3):
                    trip = RoundTrip.on_connection(conn, engine.dialect)
                    answer = trip.add(_AGAIN, {"v": i})
                    await trip.run_async(commit=True)
                    assert answer.scalar() == 2 * i
                cur = await conn.execute("SELECT name FROM pg_prepared_statements")
                return {row[0] for row in await cur.fetchall()}
        finally:
            await uploads.pool.close()

    try:
        assert asyncio.run(run()) == set()
    finally:
        engine.dispose()


_TWICE = select(cast(bindparam("v", type_=Integer()), Integer()) - 1)


def test_generic_plans_hold_for_a_trips_transaction_only(db):
    """A trip that runs prepared statements keeps their generic plans for its transaction;
    every other query of an engine's connection is planned for its values (a generic plan
    cannot use a partial index on `flags <> ''` nor size an array of members)."""
    assert db.execute(text("SHOW plan_cache_mode")).scalar() == "auto"
    for i in range(2):  # the second run uses it again: prepared, EXECUTEd
        trip = RoundTrip(db)
        answer = trip.add(_TWICE, {"v": i})
        trip.run()
        assert answer.scalar() == i - 1
    assert db.execute(text("SHOW plan_cache_mode")).scalar() == "force_generic_plan"
    db.rollback()
    assert db.execute(text("SHOW plan_cache_mode")).scalar() == "auto"
    db.rollback()
