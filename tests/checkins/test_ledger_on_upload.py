"""The ledger a check-in leaves behind equals the ledger rebuilt from the stored fixes, also
when the member's first uploads race (PostgreSQL refreshes the day inside the INSERT)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select

from app.checkins.models import CheckIn
from app.ledger.models import PresenceDay
from app.ledger.service import rebuild
from tests.checkins.helpers import fix


def ledger(db):
    rows = sorted(
        (r.member_id, r.day, r.counted_checkins, r.first_counted_at, r.last_counted_at, r.present)
        for r in db.scalars(select(PresenceDay))
    )
    db.commit()
    return rows


def test_concurrent_first_uploads_leave_the_ledger_a_rebuild_would(world, db, policy):
    # Over two local days, every third fix too inaccurate to be credited.
    bodies = [
        fix(ago=timedelta(hours=2 * k, minutes=5), accuracy_m=500.0 if k % 3 == 0 else 10.0)
        for k in range(20)
    ]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda b: world.post("alice", "/checkins", json=b), bodies))
    assert {r.status_code for r in answers} == {201}
    credited = {r.json()["credited"] for r in answers}
    assert credited == {True, False}
    stored = ledger(db)
    assert len(stored) >= 2
    assert any(present for *_, present in stored)
    counted = db.scalars(select(CheckIn.id).where(CheckIn.credited.is_(True))).all()
    db.commit()
    assert sum(row[2] for row in stored) == len(counted)
    rebuild(db, policy)
    db.commit()
    assert ledger(db) == stored
