"""A backdated move landing among the member's uploads of the moved day (PostgreSQL): the move
takes the member's lock before it reads the fixes it judges again, and every upload takes it
before it reads the assignment, so each fix ends judged against the assignment in force on its
day — at arrival or again — and the ledger is what a rebuild makes of it.

Deterministic: a third transaction holds the member's row while the uploads and the move
arrive, so all are inside the service before any may go on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, text

from app.core.db import make_engine, make_session_factory, session_scope
from app.ledger import service as ledger_service
from app.ledger.assignments import apply_change
from app.ledger.models import PresenceDay
from app.org.assignments import member_of, move_assignment
from tests.checkins.helpers import fix
from tests.ledger.support import at_local, ledger_rows, today
from tests.live import live_server
from tests.locks import wait_for_lock_waiters

pytestmark = pytest.mark.postgis

OLD, NEW = "430121001001", "430121002001"
UPLOADS = 6


def test_uploads_and_a_backdated_move_at_once(world, app, db_url, db, policy):
    alice = world.members["alice"].id
    moved_on = today() - timedelta(days=2)
    earlier = world.post("alice", "/checkins", json=fix(OLD, at=at_local(moved_on, 7)))
    assert earlier.status_code == 201  # stored before: judged again by the move

    engine = make_engine(db_url)
    try:
        with live_server(app) as base, ThreadPoolExecutor(UPLOADS + 1) as pool:
            holder = engine.connect()
            holder.execute(text("SELECT id FROM members WHERE id = :m FOR UPDATE"), {"m": alice})

            def upload(hour: int) -> int:
                with httpx.Client(base_url=base, timeout=60) as http:
                    return http.post(
                        "/api/v1/checkins",
                        headers=world.headers("alice"),
                        json=fix(OLD, at=at_local(moved_on, hour)),
                    ).status_code

            def move() -> int:
                with session_scope(make_session_factory(engine)) as session:
                    applied = apply_change(
                        session,
                        policy,
                        member_of(session, "alice"),
                        lambda s, m: move_assignment(s, m, NEW, moved_on, today=today()),
                    )
                return applied.rejudged

            uploads = [pool.submit(upload, 8 + k) for k in range(UPLOADS)]
            moved = pool.submit(move)
            try:
                # A member's uploads are stored one after another (app/checkins/storing.py):
                # the first waits on the lock, the others behind it in the service.
                wait_for_lock_waiters(engine, 2, timeout_s=30, what="upload and move waited")
            finally:
                holder.commit()
                holder.close()
            assert [u.result() for u in uploads] == [201] * UPLOADS
            assert moved.result() >= 1
    finally:
        engine.dispose()

    r = world.get("county", f"/checkins?member_id={alice}&from={moved_on}&to={moved_on}")
    items = r.json()["items"]
    assert len(items) == UPLOADS + 1
    assert {i["assigned_village_code"] for i in items} == {NEW}
    assert not any(i["credited"] for i in items)
    incremental = ledger_rows(db)
    db.execute(delete(PresenceDay))
    ledger_service.rebuild(db, policy)
    db.commit()
    assert ledger_rows(db) == incremental
