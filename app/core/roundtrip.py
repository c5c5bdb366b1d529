"""Statements sent to the database together: one network round trip on PostgreSQL.

The check-in path is a few small statements per request, and on PostgreSQL each one's cost is
mostly the wait for its answer. A `RoundTrip` queues statements and sends them in one go with
psycopg's pipeline mode, the COMMIT in the same flush when asked, then hands out every answer.
The server still runs them one after another in the transaction, each with its own snapshot
(READ COMMITTED): a statement queued after a row lock sees everything committed before the
lock was granted. On SQLite (in-process, nothing to wait for) they simply run in order.

Statements are SQLAlchemy Core, compiled once per dialect and run on the driver's cursor:
for the small hot statements, SQLAlchemy's per-execution work cost more CPU than the server.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
    """Statements of one transaction, run together by `run()`."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._queued: list[_Queued] = []
        self.dialect_name = session.get_bind().dialect.name

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

    def run(self, *, commit: bool = False) -> None:
        """Run what was queued (and COMMIT, when asked), then empty the queue."""
        queued, self._queued = self._queued, []
        self._session.flush()  # the ORM's pending rows first, as session.execute would
        connection = self._session.connection()
        if connection.dialect.name == "postgresql":
            _run_pipelined(connection, queued, commit)
        else:
            for item in queued:
                result = connection.execute(item.statement, item.params)
                if result.returns_rows:
                    item.answer.rows = list(result.all())
            if commit:
                self._session.commit()


def _run_pipelined(connection: Connection, queued: list[_Queued], commit: bool) -> None:
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    cursors = []
    fresh = outage.take_fresh(connection)
    try:
        with raw.pipeline():
            for item in queued:
                compiled = _compiled(item.statement, connection.dialect)
                cursor = raw.cursor()  # plain tuples: no column objects built per statement
                if item.many:
                    rows = [_bind(p, compiled) for p in item.params]
                    cursor.executemany(compiled.sql, rows)
                else:
                    cursor.execute(compiled.sql, _bind(item.params, compiled))
                cursors.append((item, cursor))
            if commit:
                raw.commit()
    except psycopg.OperationalError as exc:
        outage.tag_driver_error(exc, connection, fresh)
        raise
    for item, cursor in cursors:
        if not item.many and cursor.description is not None:
            item.answer.rows = cursor.fetchall()
        cursor.close()


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    defaults: dict[str, Any]  # parameters with a value in the statement (constants)
    processors: dict[str, Any]  # SQLAlchemy's conversions of bound values (JSON, …)


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
        if "__[POSTCOMPILE_" in compiled.string:
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
        hit = (statement, _Compiled(compiled.string, defaults, processors))
        with _compile_lock:
            if len(_compiled_cache) >= _CACHE_MAX:
                _compiled_cache.clear()
            _compiled_cache[key] = hit
    return hit[1]


def _bind(params: Params, compiled: _Compiled) -> dict[str, Any]:
    bound = {**compiled.defaults, **params}
    for name, processor in compiled.processors.items():
        value = bound.get(name)
        if value is not None:
            bound[name] = processor(value)
    return bound
