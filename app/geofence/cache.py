"""The process's geofence index, rebuilt only when boundaries change (in any process).

Every lookup reads one row, `boundary_revision`, which org bumps in the same transaction as a
boundary change (`app.org.boundaries`); the in-memory STRtree is rebuilt only when it moves.
"""

from __future__ import annotations

import threading

from sqlalchemy import URL, select
from sqlalchemy.orm import Session

from app.geofence.index import VillageIndex, VillageShape
from app.org.models import BoundaryRevision
from app.org.service import current_boundaries

_lock = threading.Lock()
# One index per database (tests run several apps in one process).
_indexes: dict[URL, tuple[int, VillageIndex]] = {}


REVISION = select(BoundaryRevision.revision).where(BoundaryRevision.id == 1)


def boundary_revision(session: Session) -> int:
    return session.scalar(REVISION) or 0


def cached_index(session: Session) -> tuple[int, VillageIndex] | None:
    """The index this process last built for the session's database, with its revision,
    without reading anything: the check-in path compares the revision with the one it reads
    under its locks, and rebuilds (`village_index_at`) only after letting them go."""
    return _indexes.get(session.get_bind().engine.url)


def village_index(session: Session) -> VillageIndex:
    """The index of current boundaries as this session's transaction sees them."""
    return village_index_at(session, boundary_revision(session))


def village_index_at(session: Session, revision: int) -> VillageIndex:
    """The index at `revision`, read by the caller in this transaction (the check-in path
    reads it along with other things, saving a round trip)."""
    key = session.get_bind().engine.url
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
