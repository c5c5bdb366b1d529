"""Plain check-ins on PostgreSQL with no worker thread, stored in groups: the statements and
the judging of `storing`, run on an async connection of the process's upload pool.

Check-ins that arrive together are stored together: while the pool's connections are busy,
new check-ins wait in a queue, and a free connection takes up to `ZHUCUN_UPLOAD_GROUP` of them
(of different members) into one transaction — two round trips, one BEGIN and one COMMIT for
the group instead of for each. Each member's statements are those of a lone check-in: its
chain head locked (members in id order, as one transaction locks several), its reads after the
lock, its fix judged alone. A group of one is the lone check-in. On 2 cores a check-in was
mostly the driver's and the server's work per round trip and per transaction
(bench/checkins_bench.py).

The ordinary check-in only: a resend, a member's first check-in, a geofence index to rebuild,
a fix outside the window or answering a roll call, a database that does not answer — each is
answered by `storing` instead, in a worker thread, which handles every case.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import Engine

from app.auth.dependencies import check_uploader
from app.checkins.chain import Head
from app.checkins.judging import Prepared, judge, prepare
from app.checkins.reading import out
from app.checkins.schemas import CheckInCreate, CheckInOut
from app.checkins.storing import window_error
from app.checkins.surroundings import Span, lock_devices
from app.checkins.trips import FirstTrip, queue_save
from app.core.config import Settings
from app.core.db import pooled_by_transaction
from app.core.errors import AppError
from app.core.policy import Policy
from app.core.roundtrip import GENERIC_PLANS, Answer, RoundTrip, mark_unprepared
from app.core.security import TokenClaims
from app.geofence.cache import cached_index_of

log = logging.getLogger("zhucun.checkins")
_IDLE = psycopg.pq.TransactionStatus.IDLE
_POOL_WAIT_S = 2.0

# What became of an upload: its judged row and new id, None (the thread path's), or an error.
Settled = tuple[dict[str, Any], int] | None


@dataclass(slots=True)
class _Upload:
    member_id: int
    prepared: Prepared
    received_at: datetime
    token: TokenClaims
    settled: asyncio.Future[Settled] = field(repr=False)


class Uploads:
    """The process's queue of plain check-ins and the groups that store them (one per free
    connection of `pool`)."""

    def __init__(
        self, pool: AsyncConnectionPool, engine: Engine, policy: Policy, settings: Settings
    ) -> None:
        self.pool, self.engine, self.policy = pool, engine, policy
        self.group_size = settings.upload_group
        self.groups = settings.upload_connections  # groups in flight at most
        self._waiting: deque[_Upload] = deque()
        self._running: set[asyncio.Task[None]] = set()
        self._storing: set[int] = set()  # members in a group being stored

    async def close(self) -> None:
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        await self.pool.close()

    def submit(self, upload: _Upload) -> None:
        self._waiting.append(upload)
        if len(self._running) < self.groups:
            self._running.add(asyncio.create_task(self._drain()))

    async def _drain(self) -> None:
        try:
            await self._store_while_waiting()
        finally:
            # Here, not in a done callback: an upload queued once this task has seen the
            # queue empty must find a free place for a new task.
            task = asyncio.current_task()
            assert task is not None
            self._running.discard(task)

    async def _store_while_waiting(self) -> None:
        while self._waiting:
            group = self._take()
            if not group:  # the members waiting are being stored: their tasks take them next
                return
            try:
                async with self.pool.connection(timeout=_POOL_WAIT_S) as connection:
                    await store_group(connection, self.engine, self.policy, group)
            except (psycopg.Error, PoolTimeout, asyncio.CancelledError) as exc:
                # Unreachable, overloaded, a deadlock, shutting down: each upload of the group
                # goes to the thread path, alone (a 503 with its retry, or its own answer).
                _settle_all(group, None)
                if isinstance(exc, asyncio.CancelledError):
                    raise
            except Exception:
                # A defect (in one upload's judging, say): the group's transaction was rolled
                # back, and each upload goes to the thread path alone, where only one that
                # meets the defect again fails - never the uploads it happened to share a
                # group with.
                log.exception("upload group of %d not stored together", len(group))
                _settle_all(group, None)
            finally:
                self._storing.difference_update(u.member_id for u in group)

    def _take(self) -> list[_Upload]:
        """Up to `group_size` waiting uploads of different members, in arrival order, none of
        a member in a group being stored: a member's uploads are stored one group after
        another, in the order they came, and groups never wait for each other's locks."""
        group: dict[int, _Upload] = {}
        devices: set[str] = set()
        later: list[_Upload] = []
        # Looking a few groups deep at most: one member's burst does not make every take
        # walk the whole queue.
        while self._waiting and len(group) < self.group_size and len(later) < 4 * self.group_size:
            upload = self._waiting.popleft()
            device = upload.prepared.body.device_id
            if (
                upload.member_id in group
                or upload.member_id in self._storing
                # Two members' fixes from one device in one transaction would not see each
                # other (shared_device): the second waits for a later group.
                or (device is not None and device in devices)
            ):
                later.append(upload)
            else:
                group[upload.member_id] = upload
                if device is not None:
                    devices.add(device)
        self._waiting.extendleft(reversed(later))
        self._storing.update(group)
        return list(group.values())


async def record(
    uploads: Uploads,
    member_id: int,
    body: CheckInCreate,
    received_at: datetime,
    token: TokenClaims,
) -> CheckInOut | None:
    """Store a new fix of the member (with whatever else arrives meanwhile) and answer it;
    None when it is not an ordinary new fix (nothing is then left of this attempt: the caller
    runs `storing.record`)."""
    if body.roll_call_id is not None:
        return None
    p = prepare(body, uploads.policy)
    if window_error(p, received_at, uploads.policy) is not None:
        return None
    settled: asyncio.Future[Settled] = asyncio.get_running_loop().create_future()
    uploads.submit(_Upload(member_id, p, received_at, token, settled))
    stored = await settled  # a client gone cancels its wait, not the group
    if stored is None:
        return None
    row, checkin_id = stored
    return out(row, checkin_id, [])  # here: in the request's language


async def store_group(
    connection: psycopg.AsyncConnection[Any], engine: Engine, policy: Policy, group: list[_Upload]
) -> None:
    """Store the group's fixes in one transaction and settle each upload."""
    group = sorted(group, key=lambda u: u.member_id)  # the order every group locks in
    saved: list[tuple[_Upload, dict[str, Any], Answer]] = []
    outcomes: dict[int, Settled | BaseException] = {}
    try:
        trip = RoundTrip.on_connection(connection, engine.dialect)
        firsts = [_queue_first(trip, policy, u) for u in group]
        # The devices' locks after every chain head's, in one sorted order (as a lone upload
        # takes them): no two groups wait for each other in a cycle.
        lock_devices(trip, sorted({d for u in group for d in _devices(u)}))
        for upload, first in zip(group, firsts, strict=True):
            assert first.loading is not None
            first.loading.queue_devices(trip, upload.member_id, Span.of([upload.prepared]))
        await trip.run_async()
        save = RoundTrip.on_connection(connection, engine.dialect)
        for upload, first in zip(group, firsts, strict=True):
            mark = save.mark()
            try:
                queued = _judge_and_queue(save, engine, policy, upload, first, outcomes)
            except Exception:
                # A defect met by this upload alone: the others are stored without it, and
                # it goes to the thread path (no outcome), where it fails on its own.
                log.exception("upload of member %d not judged in its group", upload.member_id)
                save.drop_after(mark)
                continue
            if queued is not None:
                saved.append((upload, *queued))
        if saved:
            await save.run_async(commit=True)
        else:
            await connection.rollback()
    except BaseException:
        if not connection.closed and connection.info.transaction_status != _IDLE:
            await connection.rollback()
        raise
    for upload, judged, inserted in saved:
        outcomes[id(upload)] = (judged, inserted.rows[0][0])
    for upload in group:
        _settle(upload, outcomes.get(id(upload)))


def _queue_first(trip: RoundTrip, policy: Policy, upload: _Upload) -> FirstTrip:
    fixes = [upload.prepared]
    span = Span.of(fixes)
    return FirstTrip.queue(trip, policy, upload.member_id, fixes, span, upload.token, devices=False)


def _devices(upload: _Upload) -> tuple[str, ...]:
    device = upload.prepared.body.device_id
    return (device,) if device else ()


def _judge_and_queue(
    save: RoundTrip,
    engine: Engine,
    policy: Policy,
    upload: _Upload,
    first: FirstTrip,
    outcomes: dict[int, Settled | BaseException],
) -> tuple[dict[str, Any], Answer] | None:
    """The upload's judged row, its save queued on `save` (answer: the new id); or None with
    its outcome noted: refused (its token no longer holds) or the thread path's (a resend, a
    first check-in, an index to build)."""
    assert first.who is not None
    assert first.loading is not None
    assert first.days is not None
    try:
        check_uploader(first.who.first(), upload.token, upload.member_id)
    except AppError as exc:
        outcomes[id(upload)] = exc
        return None
    head_row = first.locked.first()
    index = None if head_row is None else cached_index_of(engine, head_row[3] or 0)
    if head_row is None or index is None or first.stored.rows:
        return None
    head = Head(head_row[0], head_row[1], head_row[2])
    member_id, around = upload.member_id, first.loading.build()
    row = judge(upload.prepared, member_id, upload.received_at, head, index, policy, around)
    shared = list(around.shared_findings.values())
    return row, queue_save(save, policy, member_id, head, [row], first.days, shared)


def _settle(upload: _Upload, outcome: Settled | BaseException) -> None:
    if upload.settled.done():
        return
    if isinstance(outcome, BaseException):
        upload.settled.set_exception(outcome)
    else:
        upload.settled.set_result(outcome)


def _settle_all(group: list[_Upload], outcome: Settled | BaseException) -> None:
    for upload in group:
        _settle(upload, outcome)


async def open_uploads(engine: Engine, settings: Settings, policy: Policy) -> Uploads | None:
    """The process's `Uploads` on a pool of async connections (PostgreSQL only): in
    autocommit, as the trips begin and commit themselves; psycopg's own prepared statements
    off and generic plans kept, as on the engine's connections (app.core.db)."""
    if engine.dialect.name != "postgresql":
        return None
    pool = AsyncConnectionPool(
        libpq_conninfo(engine),
        # All opened at start-up: a pool growing one connection at a time under a burst
        # held check-ins for hundreds of milliseconds.
        min_size=settings.upload_connections,
        max_size=settings.upload_connections,
        max_lifetime=3600.0,  # as the engine's pool_recycle: statements planned anew hourly
        kwargs=_connect_kwargs(),
        configure=_never_prepare if pooled_by_transaction() else None,
        open=False,
    )
    await pool.open(wait=False)
    return Uploads(pool, engine, policy, settings)


def _connect_kwargs() -> dict[str, Any]:
    kwargs: dict[str, Any] = {"autocommit": True, "prepare_threshold": None, "connect_timeout": 5}
    if not pooled_by_transaction():  # PgBouncer refuses startup options (app.core.db)
        kwargs["options"] = GENERIC_PLANS
    return kwargs


async def _never_prepare(connection: psycopg.AsyncConnection[Any]) -> None:
    mark_unprepared(connection)


def libpq_conninfo(engine: Engine) -> str:
    """The engine's connection as a libpq string, as its dialect would connect: several hosts
    (`?host=db1:5432&host=db2:5432&target_session_attrs=read-write`, a failover formation's
    URL) become libpq's `host=db1,db2 port=5432,5432`, which a rendered URL would not."""
    _, params = engine.dialect.create_connect_args(engine.url)
    options = {k: v for k, v in params.items() if isinstance(v, str | int)}
    return make_conninfo("", **options)
