"""`zhucun ledger rebuild` while check-ins arrive (issue 11, defect 7): no check-in fails, no
rebuild fails, and the ledger afterwards equals a rebuild of the same records."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete

from app.core.db import make_engine, make_session_factory, session_scope
from app.ledger import service
from app.ledger.models import PresenceDay
from tests.checkins.helpers import fix
from tests.ledger.support import ledger_rows
from tests.live import live_server
from tests.world import VILLAGES

pytestmark = pytest.mark.postgis

MEMBERS = {"alice": "430121001001", "bob": "430121001002", "carol": "430121002001"}
PER_MEMBER = 12


def test_rebuild_while_checkins_arrive(world, app, db_url, db, policy, monkeypatch):
    assert set(MEMBERS.values()) <= set(VILLAGES)
    monkeypatch.setattr(service, "REBUILD_CHUNK", 1)  # lock and commit member by member
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    done = threading.Event()
    rebuilds: list[object] = []

    def rebuild_until_done() -> None:
        while not done.is_set() or not rebuilds:
            with session_scope(factory) as session:
                rebuilds.append(service.rebuild(session, policy, after_chunk=session.commit))

    def upload(who: str) -> list[int]:
        statuses = []
        with httpx.Client(base_url=base, timeout=60) as http:
            for i in range(PER_MEMBER):
                # Spread over days, so that rebuilt days and new ones interleave.
                body = fix(MEMBERS[who], ago=timedelta(days=i % 6, minutes=5 + i))
                r = http.post("/api/v1/checkins", json=body, headers=world.headers(who))
                statuses.append(r.status_code)
        return statuses

    try:
        with live_server(app) as base, ThreadPoolExecutor(len(MEMBERS) + 1) as pool:
            rebuilder = pool.submit(rebuild_until_done)
            uploads = [pool.submit(upload, who) for who in MEMBERS]
            statuses = [s for u in uploads for s in u.result()]
            done.set()
            rebuilder.result()  # a failed rebuild raises here
    finally:
        engine.dispose()

    assert statuses == [201] * (PER_MEMBER * len(MEMBERS))
    assert len(rebuilds) >= 1
    live = ledger_rows(db)
    db.execute(delete(PresenceDay))
    service.rebuild(db, policy)
    db.commit()
    assert ledger_rows(db) == live
    assert sum(row[2] for row in live) == PER_MEMBER * len(MEMBERS)
