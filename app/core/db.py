"""Database engine, sessions and the declarative base, for SQLite and PostGIS alike."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    MetaData,
    bindparam,
    create_engine,
    event,
    func,
    make_url,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.core.roundtrip import UNPREPARED

# Stable constraint names, so that migrations can name what they alter or drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = str(url_or_engine.url) if isinstance(url_or_engine, Engine) else url_or_engine
    return url.startswith("sqlite")


def shown_url(url: str) -> str:
    """`url` as logs and messages show it: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL at all: show nothing of it, it may hold a secret
        return "(an unreadable DATABASE_URL)"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    if is_sqlite(url):
        pool_args = {} if ":memory:" in url else {"pool_size": 8, "max_overflow": 32}
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **pool_args,
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    # As many pooled connections as worker threads (anyio's default, 40): overflow connections
    # are closed on return, and opening one per request costs more than the request itself.
    # No pre-ping (a round trip per checkout); a disconnect invalidates the pool instead.
    # A server that is down must fail a request fast (503), not hang it on connect.
    # psycopg's own automatic prepared statements are off: it deallocates every prepared
    # statement of the connection on any rollback, the check-in path's too (app.core.roundtrip
    # prepares the statements it runs on every request itself, and sets generic plans for
    # their transaction only: GENERIC_PLANS_HERE).
    # Behind PgBouncer in transaction mode (`pooled_by_transaction`) nothing is prepared
    # (docs/SCALING.md §4).
    pooled = pooled_by_transaction()
    kwargs.setdefault("connect_args", {"connect_timeout": 5, "prepare_threshold": None})
    engine = create_engine(url, pool_size=40, max_overflow=8, pool_recycle=3600, **kwargs)
    if pooled:
        event.listen(engine, "connect", _never_prepare)
    return engine


def ids_in(session: Session, column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """`column IN ids`, as one array parameter on PostgreSQL: a city is ten thousand ids, which
    as as many bound parameters cost more to send and parse than the query takes to run."""
    wanted = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        test: ColumnElement[bool] = column == func.any(
            bindparam(None, wanted, type_=ARRAY(Integer))
        )
        return test
    return cast(ColumnElement[bool], column.in_(wanted))


def pooled_by_transaction() -> bool:
    """Whether the PostgreSQL URL is PgBouncer's in transaction mode (`ZHUCUN_DB_POOLER`,
    app.core.config; read here because every engine of the process must agree)."""
    mode = os.environ.get("ZHUCUN_DB_POOLER", "none")
    if mode not in ("none", "transaction"):
        raise ValueError(f"ZHUCUN_DB_POOLER must be none or transaction, not {mode!r}")
    return mode == "transaction"


def _never_prepare(_dbapi_conn: Any, record: Any) -> None:
    record.info[UNPREPARED] = True


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, issue BEGIN (see _sqlite_on_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_on_begin(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: two writers can never both read a chain
    # head and then collide on upgrade (SQLITE_BUSY mid-transaction, which no retry helps).
    # A read-only connection (`read_only_engine`) reads a WAL snapshot without blocking them.
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN DEFERRED")
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY = "zhucun_read_only"


def read_only_engine(engine: Engine) -> Engine:
    """`engine` for long reads (exports): one consistent snapshot that holds no write lock
    (SQLite: a deferred transaction in WAL mode; PostgreSQL: REPEATABLE READ, read only)."""
    if is_sqlite(engine):
        return engine.execution_options(**{READ_ONLY: True})
    return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
