"""The process's geofence index, rebuilt only when boundaries change (in any process).

Every lookup reads one row, `boundary_revision`, which boundary imports bump in the same
transaction as the change; the in-memory STRtree is rebuilt only when that number moves.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from app.geofence.index import VillageIndex, VillageShape
from app.org.models import BoundaryRevision
from app.org.service import current_boundaries

_lock = threading.Lock()
# One index per database (tests run several apps in one process).
_indexes: dict[str, tuple[int, VillageIndex]] = {}


def boundary_revision(session: Session) -> int:
    return session.scalar(select(BoundaryRevision.revision).where(BoundaryRevision.id == 1)) or 0


def bump_boundary_revision(session: Session) -> None:
    """Call in the transaction that changes any boundary.

    The new revision is at least the current time in microseconds: were the database recreated
    (its counter back at 0) under a running process, a plain counter could climb back to the
    number that process cached with the old boundaries, and it would locate against them.
    """
    now_us = time.time_ns() // 1000
    following = BoundaryRevision.revision + 1
    session.execute(
        update(BoundaryRevision)
        .where(BoundaryRevision.id == 1)
        .values(revision=case((following > now_us, following), else_=now_us))
    )


def village_index(session: Session) -> VillageIndex:
    """The index of current boundaries as this session's transaction sees them."""
    return village_index_at(session, boundary_revision(session))


def village_index_at(session: Session, revision: int) -> VillageIndex:
    """The index at `revision`, read by the caller in this transaction (the check-in path
    reads it along with other things, saving a round trip)."""
    key = str(session.get_bind().engine.url)
    cached = _indexes.get(key)
    if cached is not None and cached[0] == revision:
        return cached[1]
    with _lock:
        cached = _indexes.get(key)
        if cached is not None and cached[0] == revision:
            return cached[1]
        index = VillageIndex(VillageShape(code, geom) for code, geom in current_boundaries(session))
        _indexes[key] = (revision, index)
        return index
