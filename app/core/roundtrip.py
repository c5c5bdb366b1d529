"""Statements sent to the database together: one network round trip on PostgreSQL.

The check-in path is a few small statements per request, and on PostgreSQL each one's cost is
mostly the wait for its answer. A `RoundTrip` queues statements and sends them as one message
(BEGIN and COMMIT included when asked), then hands out every answer. The server runs them one
after another in the transaction, each with its own snapshot (READ COMMITTED): a statement
queued after a row lock sees everything committed before the lock was granted. On SQLite
(in-process, nothing to wait for) they simply run in order.

Statements are SQLAlchemy Core, compiled once per dialect and run on the driver's cursor:
for the small hot statements, SQLAlchemy's per-execution work cost more CPU than the server.
One simple-query message with parameters bound client-side was measured against psycopg's
pipeline mode (prepared statements, and a round trip of its own for BEGIN) and against one
statement at a time: 10 statements took 0.40 ms and 0.16 ms of client CPU this way, 0.96 ms
and 0.47 ms pipelined, 0.59 ms and 0.26 ms one by one (2 cores, loopback).
"""

from __future__ import annotations

import itertools
import math
import re
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from app.core import outage

Params = Mapping[str, Any]


@dataclass(slots=True)
class Answer:
    """The rows one queued statement returned (after `RoundTrip.run`): read them by position
    (plain tuples on PostgreSQL, SQLAlchemy rows on SQLite)."""

    rows: list[Any] = field(default_factory=list)

    def first(self) -> Any | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any | None:
        return self.rows[0][0] if self.rows else None


@dataclass(slots=True)
class _Queued:
    statement: Executable
    params: Any  # Params, or a sequence of them when `many`
    answer: Answer
    many: bool


class RoundTrip:
    """Statements of one transaction, run together by `run()` (a session's connection) or
    `run_async()` (an async psycopg connection of its own, `on_connection`)."""

    def __init__(self, session: Session) -> None:
        self._session: Session | None = session
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._dialect: Dialect = session.get_bind().dialect
        self._queued: list[_Queued] = []
        self.dialect_name = self._dialect.name

    @classmethod
    def on_connection(cls, connection: psycopg.AsyncConnection[Any], dialect: Dialect) -> RoundTrip:
        """A trip on an async connection in autocommit: the trip begins and commits."""
        trip = cls.__new__(cls)
        trip._session, trip._connection, trip._dialect = None, connection, dialect
        trip._queued = []
        trip.dialect_name = dialect.name
        return trip

    def add(self, statement: Executable, params: Params | None = None) -> Answer:
        """Queue a statement; its rows are in the answer once run."""
        answer = Answer()
        self._queued.append(_Queued(statement, params or {}, answer, many=False))
        return answer

    def add_many(self, statement: Executable, params: Sequence[Params]) -> Answer:
        """Queue a statement run once per parameter set (rows: only SQLite's INSERT … RETURNING
        with sort_by_parameter_order; psycopg's are not read)."""
        answer = Answer()
        if params:
            self._queued.append(_Queued(statement, params, answer, many=True))
        return answer

    def mark(self) -> int:
        """Where the queue stands, for `drop_after`."""
        return len(self._queued)

    def drop_after(self, mark: int) -> None:
        """Unqueue what was queued since `mark` (a part of the trip given up before it ran)."""
        del self._queued[mark:]

    async def run_async(self, *, commit: bool = False) -> None:
        """`run` on the trip's async connection."""
        queued, self._queued = self._queued, []
        raw = self._connection
        assert raw is not None
        prepared = None if raw in _ASYNC_UNPREPARED else _ASYNC_PREPARED.setdefault(raw, set())
        message = _Message(raw, self._dialect, prepared, queued, commit)
        try:
            async with raw.cursor() as cursor:
                await cursor.execute(message.data)
                for answer in message.answers:
                    result = cursor.pgresult
                    if answer is not None and result is not None and result.status == _ROWS:
                        answer.rows = await cursor.fetchall()
                    cursor.nextset()
        except BaseException:
            if message.preparing:  # which PREPAREs ran is unknown: forget the connection
                await raw.close()
            raise
        if prepared is not None:
            prepared.update(message.preparing)

    def run(self, *, commit: bool = False) -> None:
        """Run what was queued (and COMMIT, when asked), then empty the queue."""
        queued, self._queued = self._queued, []
        assert self._session is not None
        self._session.flush()  # the ORM's pending rows first, as session.execute would
        connection = self._session.connection()
        if connection.dialect.name == "postgresql":
            _run_together(connection, queued, commit)
        else:
            for item in queued:
                result = connection.execute(item.statement, item.params)
                if result.returns_rows:
                    item.answer.rows = list(result.all())
            if commit:
                self._session.commit()


def _run_together(connection: Connection, queued: list[_Queued], commit: bool) -> None:
    """PostgreSQL: the statements as one simple-query message, answers read in order.

    A statement run before (a module constant of the hot path) is a server-side prepared
    statement of the connection, run as EXECUTE with its parameters bound client-side
    (psycopg escapes them): the server plans it once per connection, the message carries
    only the values. On a connection in autocommit (`begin_on_first_trip`), the trip opens
    the transaction itself: BEGIN travels with the statements, COMMIT with the last trip's."""
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    prepared: set[str] | None = (
        None if connection.info.get(UNPREPARED) else connection.info.setdefault(_PREPARED, set())
    )
    message = _Message(raw, connection.dialect, prepared, queued, commit, generic_here=True)
    own_transaction, answers, preparing = raw.autocommit, message.answers, message.preparing
    fresh = outage.take_fresh(connection)
    try:
        with raw.cursor() as cursor:
            cursor.execute(message.data)
            for answer in answers:
                result = cursor.pgresult
                if answer is not None and result is not None and result.status == _ROWS:
                    answer.rows = cursor.fetchall()
                cursor.nextset()
        if commit and not own_transaction:
            raw.commit()
    except psycopg.OperationalError as exc:
        outage.tag_driver_error(exc, connection, fresh)
        raise
    except psycopg.errors.InvalidSqlStatementName:
        # Deallocated behind our back (psycopg's own prepared statements are off for this
        # reason, app.core.db): forget the connection, so the next request prepares anew.
        connection.invalidate()
        raise
    except BaseException:
        if preparing:
            # Which of this message's PREPAREs ran is unknown (they outlive a rollback):
            # the connection is discarded rather than guessed about.
            connection.invalidate()
        raise
    if prepared is not None:
        prepared.update(preparing)


_PREPARED = "zhucun_prepared"

# Connection info key: the connection goes through a pooler in transaction mode (PgBouncer,
# `ZHUCUN_DB_POOLER=transaction`), where the next transaction may run on another server
# connection: a statement prepared on one would not exist there, so trips send their SQL
# unprepared (`mark_unprepared`), parameters bound client-side as before.
UNPREPARED = "zhucun_unprepared"
_ASYNC_UNPREPARED: weakref.WeakSet[Any] = weakref.WeakSet()


def mark_unprepared(connection: psycopg.AsyncConnection[Any]) -> None:
    """An async connection (the upload pool's) that must never prepare (see UNPREPARED)."""
    _ASYNC_UNPREPARED.add(connection)


# A prepared statement of a trip keeps its generic plan. The hot statements are lookups by
# member on indexes made for them; left to choose, the server judged a plan for the
# parameters of each EXECUTE cheaper once the tables had statistics and planned every
# execution anew - half of the database's CPU per check-in (bench/checkins_bench.py). A plan
# made before a table had statistics lasts as long as its connection (an hour at most: the
# pools recycle them), while the table is small.
#
# The upload pool's connections run nothing but trips: the setting is theirs from connect
# (GENERIC_PLANS). The engines' connections serve every other query too, and a generic plan
# there is blind to the values (the size of a member array, a date range, `flags <> ''` of a
# partial index): set at connect, it made the city-wide compliance list 3-4 times slower
# (bench/compliance_bench.py). There a trip with prepared statements sets it for its own
# transaction (GENERIC_PLANS_HERE).
GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"
GENERIC_PLANS_HERE = "SET LOCAL plan_cache_mode = force_generic_plan"


class _Message:
    """The statements of a trip as one simple-query message, and where each answer goes."""

    def __init__(
        self,
        raw: psycopg.Connection[Any] | psycopg.AsyncConnection[Any],
        dialect: Dialect,
        prepared: set[str] | None,
        queued: list[_Queued],
        commit: bool,
        *,
        generic_here: bool = False,
    ) -> None:
        """`prepared`: the names the connection has prepared, or None where nothing may be
        prepared (behind PgBouncer in transaction mode: `UNPREPARED`). `generic_here`: the
        connection does not keep generic plans by itself (an engine's): a trip that runs
        prepared statements sets them for its transaction (GENERIC_PLANS_HERE)."""
        own_transaction = raw.autocommit
        binder = _Binder(raw)
        self.preparing: list[str] = []
        parts: list[str] = []
        self.answers: list[Answer | None] = []  # per part: where its rows go
        if own_transaction and raw.info.transaction_status == _IDLE:
            parts.append("BEGIN")
            self.answers.append(None)
        compiled_items = [(_compiled(item.statement, dialect), item) for item in queued]
        if generic_here and prepared is not None and any(c.name for c, _ in compiled_items):
            parts.append(GENERIC_PLANS_HERE)
            self.answers.append(None)
        for compiled, item in compiled_items:
            if (
                prepared is not None
                and compiled.name
                and compiled.name not in prepared
                and compiled.name not in self.preparing
            ):
                parts.append(f"PREPARE {compiled.name} AS {compiled.prepare_sql}")
                self.answers.append(None)
                self.preparing.append(compiled.name)
            for params in item.params if item.many else [item.params]:
                bound = _bind(params, compiled)
                parts.append(compiled.text(binder, bound, prepared=prepared is not None))
                self.answers.append(None if item.many else item.answer)
        if commit and own_transaction:
            parts.append("COMMIT")
            self.answers.append(None)
        # Bytes: psycopg looks for no placeholders in them.
        self.data = ";\n".join(parts).encode(raw.info.encoding)


_ROWS = psycopg.pq.ExecStatus.TUPLES_OK
_IDLE = psycopg.pq.TransactionStatus.IDLE
# An async connection's prepared statements (they live as long as it does).
_ASYNC_PREPARED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def begin_on_first_trip(session: Session) -> None:
    """Let the session's first round trip open its transaction (PostgreSQL): the connection
    runs in autocommit, so psycopg sends no BEGIN of its own (a round trip before the first
    statement); the trip sends BEGIN with its statements and COMMIT with its last. Statements
    the session runs in between are in that transaction; the session's commit or rollback
    ends it if the trips did not. SQLAlchemy restores the isolation level when the connection
    goes back to the pool. Call it before the session runs anything."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@dataclass(slots=True)
class _Compiled:
    sql: str  # with %(name)s placeholders
    defaults: dict[str, Any]  # parameters with a value in the statement (constants)
    processors: dict[str, Any]  # SQLAlchemy's conversions of bound values (JSON, …)
    prepare_sql: str  # with $1… placeholders, for PREPARE
    names: tuple[str, ...]  # the parameter of each $n
    rendered: bool  # values rendered into the SQL: never prepared
    uses: int = 0
    name: str | None = None  # the prepared statement's, once the statement is seen again

    def text(self, binder: _Binder, params: dict[str, Any], *, prepared: bool = True) -> str:
        """The statement as sent: EXECUTE of the prepared one, or the SQL itself (always,
        with `prepared` False: a connection behind a transaction-mode pooler)."""
        if self.name is None or not prepared:
            return str(binder.cursor.mogrify(self.sql, params))
        if not self.names:
            return f"EXECUTE {self.name}"
        args = ", ".join(binder.literal(params[name]) for name in self.names)
        return f"EXECUTE {self.name}({args})"


class _Binder:
    """SQL literals of parameter values. The plain values of the hot path (numbers, text,
    instants, days) are written here, which costs a fraction of psycopg's general adaptation;
    anything else, and text at all when the server does not take backslashes literally
    (standard_conforming_strings), is psycopg's to escape."""

    def __init__(self, raw: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> None:
        self.cursor: Any = (
            psycopg.ClientCursor(raw)
            if isinstance(raw, psycopg.Connection)
            else psycopg.AsyncClientCursor(raw)
        )
        self.plain_text = raw.info.parameter_status("standard_conforming_strings") == "on"

    def literal(self, value: Any) -> str:
        kind = type(value)
        if value is None:
            return "NULL"
        if kind is bool:
            return "true" if value else "false"
        if kind is int:
            return str(value)
        if kind is float and math.isfinite(value):
            return repr(value)
        if kind is str and self.plain_text and "\\" not in value and "\x00" not in value:
            # With standard_conforming_strings, a quote is the one character to double.
            return "'" + str(value).replace("'", "''") + "'"
        if kind is datetime and value.tzinfo is not None:
            return f"'{value.isoformat()}'::timestamptz"
        if kind is date:
            return f"'{value.isoformat()}'::date"
        if kind is list and value and all(type(item) is str for item in value):
            # Text arrays (client_ids): the elements as literals; the statement's declared
            # parameter type gives the array its type.
            return f"ARRAY[{', '.join(self.literal(item) for item in value)}]"
        return str(self.cursor.mogrify("%s", [value]))


_NAMED = re.compile(r"%\((\w+)\)s")
_statement_numbers = itertools.count(1)


def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with $n placeholders (a name used twice is one $n), and the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _NAMED.sub(number, sql).replace("%%", "%"), tuple(names)


# Bounded: the hot statements are module constants, compiled once; a statement built per call
# (a DELETE … IN of given days) is compiled each time and only passes through.
_CACHE_MAX = 256
_compiled_cache: dict[tuple[int, str], tuple[Executable, _Compiled]] = {}
_compile_lock = threading.Lock()


def _compiled(statement: Executable, dialect: Dialect) -> _Compiled:
    key = (id(statement), dialect.name)
    hit = _compiled_cache.get(key)
    if hit is None or hit[0] is not statement:
        element = cast(ClauseElement, statement)
        compiled = element.compile(dialect=dialect)
        rendered = "__[POSTCOMPILE_" in compiled.string
        if rendered:
            # IN (…) of values given in the statement (a statement built per call): rendered
            # into the SQL. A hot statement uses `= ANY(:array)` and is compiled once.
            compiled = element.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        assert isinstance(compiled, SQLCompiler)
        required = {name for name, bind in compiled.binds.items() if bind.required}
        values = compiled.construct_params(_check=False)
        defaults = {name: value for name, value in values.items() if name not in required}
        processors = {
            name: processor
            for name, processor in compiled._bind_processors.items()
            if processor is not None
        }
        prepare_sql, names = _positional(compiled.string)
        if rendered:  # built per call: never cached, never prepared
            return _Compiled(compiled.string, defaults, processors, prepare_sql, names, True)
        hit = (
            statement,
            _Compiled(compiled.string, defaults, processors, prepare_sql, names, rendered),
        )
        with _compile_lock:
            if len(_compiled_cache) >= _CACHE_MAX:
                _compiled_cache.clear()
            _compiled_cache[key] = hit
    found = hit[1]
    found.uses += 1
    if found.name is None and found.uses > 1 and not found.rendered:
        # Seen again: a statement built once and reused, worth preparing (one built per
        # call never comes back).
        found.name = f"zhucun_{next(_statement_numbers)}"
    return found


def _bind(params: Params, compiled: _Compiled) -> dict[str, Any]:
    bound = {**compiled.defaults, **params}
    for name, processor in compiled.processors.items():
        value = bound.get(name)
        if value is not None:
            bound[name] = processor(value)
    return bound
