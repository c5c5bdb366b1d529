"""Announcing a boundary change: the revision counter that every geofence index watches.

Org owns the boundaries and says when they changed; the geofence (above org) reads the
counter and rebuilds its index when it moves. Org never calls into the geofence.
"""

from __future__ import annotations

import time

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from app.org.models import BoundaryRevision


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


def lock_boundaries(session: Session) -> None:
    """Take the lock that orders changes of boundaries, before reading the ones a change is
    judged against (an import's overlaps): the row `bump_boundary_revision` updates anyway.
    SQLite's BEGIN IMMEDIATE holds the write lock already."""
    session.execute(select(BoundaryRevision.id).where(BoundaryRevision.id == 1).with_for_update())
