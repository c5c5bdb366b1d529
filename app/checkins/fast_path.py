"""One check-in on PostgreSQL with no worker thread: the statements and the judging of
`storing`, run on an async connection of the process's upload pool.

The ordinary check-in only: a resend, a member's first check-in, a geofence index to rebuild,
a fix outside the window or answering a roll call, a database that does not answer — each is
answered by `storing` instead, in a worker thread, which handles every case. Worker threads
contending for the GIL were the largest cost of a check-in under load (bench/checkins_bench.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine

from app.auth.dependencies import check_uploader
from app.checkins.chain import Head
from app.checkins.judging import judge, prepare
from app.checkins.reading import out
from app.checkins.schemas import CheckInCreate, CheckInOut
from app.checkins.storing import window_error
from app.checkins.surroundings import Span
from app.checkins.trips import FirstTrip, queue_save
from app.core.config import Settings
from app.core.policy import Policy
from app.core.roundtrip import RoundTrip
from app.core.security import TokenClaims
from app.geofence.cache import cached_index_of

_IDLE = psycopg.pq.TransactionStatus.IDLE


async def record(
    connection: psycopg.AsyncConnection[Any],
    engine: Engine,
    policy: Policy,
    member_id: int,
    body: CheckInCreate,
    received_at: datetime,
    token: TokenClaims,
) -> CheckInOut | None:
    """Store a new fix of the member and answer it; None when it is not an ordinary new
    fix (nothing is then left of this attempt: the caller runs `storing.record`)."""
    if body.roll_call_id is not None:
        return None
    p = prepare(body, policy)
    if window_error(p, received_at, policy) is not None:
        return None
    span = Span.of([(p.body, p.captured_at, p.local_date, p.latitude)])
    try:
        trip = RoundTrip.on_connection(connection, engine.dialect)
        first = FirstTrip.queue(trip, policy, member_id, [p], span, token)
        await trip.run_async()
        assert first.who is not None
        assert first.loading is not None
        assert first.days is not None
        check_uploader(first.who.first(), token, member_id)
        head_row = first.locked.first()
        index = None if head_row is None else cached_index_of(engine, head_row[3] or 0)
        if head_row is None or index is None or first.stored.rows:
            await connection.rollback()
            return None
        head = Head(head_row[0], head_row[1], head_row[2])
        row = judge(p, member_id, received_at, head, index, policy, first.loading.build())
        save = RoundTrip.on_connection(connection, engine.dialect)
        inserted = queue_save(save, policy, member_id, head, [row], first.days)
        await save.run_async(commit=True)
    except BaseException:
        if not connection.closed and connection.info.transaction_status != _IDLE:
            await connection.rollback()
        raise
    return out(row, inserted.rows[0][0], [])


async def open_upload_pool(engine: Engine, settings: Settings) -> AsyncConnectionPool | None:
    """The process's pool of async connections for `record` (PostgreSQL only): in autocommit,
    as the trips begin and commit themselves; psycopg's own prepared statements off, as on
    the engine's connections (app.core.db)."""
    if engine.dialect.name != "postgresql":
        return None
    url = engine.url.set(drivername="postgresql")
    pool = AsyncConnectionPool(
        url.render_as_string(hide_password=False),
        # All opened at start-up: a pool growing one connection at a time under a burst
        # held check-ins for hundreds of milliseconds.
        min_size=settings.upload_connections,
        max_size=settings.upload_connections,
        kwargs={"autocommit": True, "prepare_threshold": None, "connect_timeout": 5},
        open=False,
    )
    await pool.open(wait=False)
    return pool
