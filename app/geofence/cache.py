"""The process's geofence index, rebuilt only when boundaries change (in any process).

Every lookup reads one row, `boundary_revision`, which org bumps in the same transaction as a
boundary change (`app.org.boundaries`); the in-memory STRtree is rebuilt only when it moves.

A rebuild reads every boundary (a second or more for a county) and must not happen while a
request holds locks others wait on (the member's chain head, the ledger row): it reads from a
read-only snapshot of its own (`read_only_engine`: no write lock on SQLite, REPEATABLE READ on
PostgreSQL), never the caller's transaction, so it neither holds nor waits on a lock. A caller
that has taken locks asks `cached_index` (no query, never builds) and, on a miss, lets go of its
locks before `index_for_revision`/`refresh_index`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import URL, Engine, select
from sqlalchemy.orm import Session

from app.core.db import read_only_engine
from app.geofence.index import VillageIndex, VillageShape
from app.org.models import BoundaryRevision
from app.org.service import current_boundaries

_lock = threading.Lock()
# One index per database (tests run several apps in one process).
_indexes: dict[URL, tuple[int, VillageIndex]] = {}
# Called with the revision each time an index is built (tests observe when builds happen).
build_observers: list[Callable[[int], None]] = []


class BoundariesMoved(Exception):
    """The boundaries moved past the revision asked for: read the revision again."""

    def __init__(self, asked: int, current: int) -> None:
        super().__init__(f"boundary revision {asked} asked, {current} current")
        self.asked = asked
        self.current = current


REVISION = select(BoundaryRevision.revision).where(BoundaryRevision.id == 1)


def boundary_revision(session: Session) -> int:
    return session.scalar(REVISION) or 0


def _engine(session: Session) -> Engine:
    return session.get_bind().engine


def _key(engine: Engine) -> URL:
    return engine.url  # hashable, and cheaper than rendering it on every check-in


def cached_index(session: Session, revision: int) -> VillageIndex | None:
    """The index at `revision` if this process has it; None otherwise. No query, no build:
    safe to call while holding locks."""
    return cached_index_of(_engine(session), revision)


def cached_index_of(engine: Engine, revision: int) -> VillageIndex | None:
    """`cached_index` for a caller with no session (the async check-in path)."""
    cached = _indexes.get(_key(engine))
    if cached is not None and cached[0] == revision:
        return cached[1]
    return None


def refresh_index(session: Session) -> tuple[int, VillageIndex]:
    """(revision, index) of the newest committed boundaries, built if this process lacks it,
    from a read-only snapshot of its own (not `session`'s transaction, whose locks it neither
    holds nor waits on). One build at a time per process; a caller that waited on another's
    build takes its result."""
    engine = _engine(session)
    snapshot = read_only_engine(engine)
    with Session(snapshot) as reader:
        revision = boundary_revision(reader)
        cached = _indexes.get(_key(engine))
        if cached is not None and cached[0] == revision:
            return cached
        with _lock:
            cached = _indexes.get(_key(engine))
            if cached is not None and cached[0] == revision:
                return cached
            # The same snapshot that read the revision reads the boundaries: they agree.
            index = VillageIndex(
                VillageShape(code, geom) for code, geom in current_boundaries(reader)
            )
            for observe in build_observers:
                observe(revision)
            _indexes[_key(engine)] = (revision, index)
            return revision, index


def _build_in_callers_view(session: Session, revision: int) -> VillageIndex:
    """The index as `session`'s own transaction sees the boundaries: for a caller that changed
    them and has not committed (an import, the demo loader), which no other snapshot sees."""
    with _lock:
        index = VillageIndex(VillageShape(code, geom) for code, geom in current_boundaries(session))
        for observe in build_observers:
            observe(revision)
        _indexes[_key(_engine(session))] = (revision, index)
        return index


def index_for_revision(session: Session, revision: int) -> VillageIndex:
    """The index at `revision` (as the caller read it), from the cache or built by
    `refresh_index` (never in the caller's transaction, never holding a lock). BoundariesMoved
    when the newest boundaries are past `revision`: the caller's read is stale (re-read it).
    A revision no other transaction sees yet is the caller's own uncommitted change: built
    in the caller's view."""
    index = cached_index(session, revision)
    if index is not None:
        return index
    current, index = refresh_index(session)
    if current > revision:
        raise BoundariesMoved(revision, current)
    if current < revision:
        return _build_in_callers_view(session, revision)
    return index


def village_index(session: Session) -> VillageIndex:
    """The index of current boundaries (locate, a batch before its locks). The revision is
    read in `session`; a rebuild happens outside it (`refresh_index`)."""
    return village_index_at(session, boundary_revision(session))


def village_index_at(session: Session, revision: int) -> VillageIndex:
    """The index at `revision`, read by the caller in this transaction (the check-in path
    reads it along with other things, saving a round trip). Prefer `cached_index` under locks
    and `index_for_revision` after letting go of them; this one serves a caller that cannot
    let go (the build still reads outside the caller's transaction). A newer revision than
    the caller's is served as is: the boundaries of the newest committed import."""
    index = cached_index(session, revision)
    if index is not None:
        return index
    current, index = refresh_index(session)
    if current < revision:
        return _build_in_callers_view(session, revision)
    return index
