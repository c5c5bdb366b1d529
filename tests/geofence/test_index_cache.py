"""The geofence index is rebuilt outside the caller's transaction and locks (issue 11, defect
7): the first check-in after a village import must not rebuild it while holding the member's
chain-head lock, which every other write of that member waits on."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, event, text

from app.checkins.models import ChainHead
from app.geofence import cache
from app.geofence.cache import (
    BoundariesMoved,
    boundary_revision,
    cached_index,
    index_for_revision,
    refresh_index,
)
from app.org.boundaries import bump_boundary_revision
from tests.checkins.helpers import fix
from tests.world import centre


def _import(db) -> int:
    """What an import commits, as far as the index cares: a new boundary revision."""
    bump_boundary_revision(db)
    db.commit()
    return boundary_revision(db)


@pytest.fixture
def builds() -> Iterator[list[int]]:
    seen: list[int] = []
    cache.build_observers.append(seen.append)
    yield seen
    cache.build_observers.remove(seen.append)


def test_a_rebuild_reads_outside_the_callers_transaction(world, db, engine, builds):
    revision = _import(db)
    with engine.connect() as conn:
        from sqlalchemy.orm import Session

        session = Session(conn)
        index = index_for_revision(session, revision)
        # The caller's connection never began a transaction: the build held none of its locks.
        assert not conn.in_transaction()
        assert builds == [revision]
        lon, lat = centre("430121001001")
        assert index.locate(lon, lat) == "430121001001"
        assert index_for_revision(session, revision) is index
        assert builds == [revision]  # built once


def test_the_cached_index_answers_without_a_query(world, db, engine):
    revision, index = refresh_index(db)
    db.rollback()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert cached_index(db, revision) is index
    assert cached_index(db, revision + 1) is None
    assert statements == []


def test_a_stale_revision_is_refused_and_the_newest_index_kept(world, db, builds):
    old = boundary_revision(db)
    db.rollback()
    new = _import(db)
    db.rollback()
    with pytest.raises(BoundariesMoved) as caught:
        index_for_revision(db, old)
    assert (caught.value.asked, caught.value.current) == (old, new)
    assert cached_index(db, new) is not None
    assert builds[-1] == new


def _member_lock_held(db_url: str, member_id: int) -> bool:
    """Whether another transaction holds the member's chain-head lock right now."""
    if db_url.startswith("sqlite"):
        # SQLite: a check-in holds the database's write lock (BEGIN IMMEDIATE) throughout.
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()
    probe = create_engine(db_url)
    try:
        with probe.begin() as conn:
            conn.execute(
                text(
                    f"SELECT 1 FROM {ChainHead.__tablename__} WHERE member_id = :m "
                    "FOR UPDATE NOWAIT"
                ),
                {"m": member_id},
            )
        return False
    except Exception:
        return True
    finally:
        probe.dispose()


def test_first_checkin_after_an_import_rebuilds_the_index_before_locking(world, db, db_url, builds):
    alice = world.members["alice"].id
    assert world.post("alice", "/checkins", json=fix("430121001001")).status_code == 201
    _import(db)
    # Let go of SQLite's write lock without expiring the world's users (a rollback would, and
    # reading them again for a token would take the lock back).
    db.commit()
    held: list[bool] = []
    probe = lambda revision: held.append(_member_lock_held(db_url, alice))  # noqa: E731
    cache.build_observers.append(probe)
    try:
        r = world.post("alice", "/checkins", json=fix("430121001001"))
    finally:
        cache.build_observers.remove(probe)
    assert r.status_code == 201, r.text
    assert held, "the import's new revision was never built"
    assert held == [False] * len(held), "the index was rebuilt under the member's lock"


def test_a_callers_own_uncommitted_boundaries_are_indexed_as_it_sees_them(world, db, builds):
    # The demo loader and importers change boundaries and locate points in one transaction:
    # no other snapshot sees that revision yet, so it is built in the caller's view.
    from app.geofence.cache import village_index

    bump_boundary_revision(db)
    mine = boundary_revision(db)
    index = village_index(db)
    assert builds[-1] == mine
    lon, lat = centre("430121001001")
    assert index.locate(lon, lat) == "430121001001"
    assert index_for_revision(db, mine) is index
    db.rollback()
