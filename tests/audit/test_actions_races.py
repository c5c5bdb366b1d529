"""Parallel privileged actions append to one unforked actions chain (PostGIS; SQLite's
BEGIN IMMEDIATE serialises writers already).

Deterministic: a third transaction holds the chain's head row while every review arrives, so
all of them are inside their transactions, about to append, before any may go on."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, text

from app.audit import rules
from app.audit.actions_verify import verify_actions
from app.audit.models import ActionEntry, ActionsHead
from app.core.db import make_engine
from tests.checkins.helpers import fix
from tests.live import live_server
from tests.locks import wait_for_lock_waiters

pytestmark = pytest.mark.postgis

PER_MEMBER = 4
MEMBERS = (("alice", "430121001001"), ("bob", "430121001002"), ("carol", "430121002001"))


def test_parallel_reviews_make_one_unforked_chain(world, app, db, db_url):
    checkins = []
    for who, village in MEMBERS:
        for k in range(PER_MEMBER):
            answer = world.post(who, "/checkins", json=fix(village, ago=timedelta(hours=k + 1)))
            assert answer.status_code == 201, answer.text
            checkins.append(answer.json()["id"])
    n = len(checkins)
    holder_engine = make_engine(db_url)
    try:
        with live_server(app) as base, ThreadPoolExecutor(n) as pool:
            holder = holder_engine.connect()
            holder.execute(
                text(
                    "INSERT INTO audit_actions_head (id, seq, last_hash) VALUES (1, 0, :h)"
                    " ON CONFLICT DO NOTHING"
                ),
                {"h": rules.GENESIS_HASH},
            )
            holder.commit()
            holder.execute(text("SELECT seq FROM audit_actions_head WHERE id = 1 FOR UPDATE"))

            def void(checkin_id: int) -> int:
                with httpx.Client(base_url=base, timeout=90) as http:
                    return http.post(
                        f"/api/v1/checkins/{checkin_id}/void",
                        headers=world.headers("county"),
                        json={"reason": f"void {checkin_id}"},
                    ).status_code

            futures = [pool.submit(void, c) for c in checkins]
            wait_for_lock_waiters(
                holder_engine, n, timeout_s=30, what="actions waited on the chain's head"
            )
            holder.commit()
            holder.close()
            statuses = [f.result() for f in futures]
    finally:
        holder_engine.dispose()
    assert statuses == [200] * n
    entries = list(db.scalars(select(ActionEntry).order_by(ActionEntry.seq)))
    assert [e.seq for e in entries] == list(range(1, n + 1))
    assert sorted(e.subject for e in entries) == sorted(f"checkin:{c}" for c in checkins)
    assert entries[0].prev_hash == rules.GENESIS_HASH
    for prev, entry in itertools.pairwise(entries):
        assert entry.prev_hash == prev.hash
    head = db.get(ActionsHead, 1)
    assert (head.seq, head.last_hash) == (n, entries[-1].hash)
    db.commit()
    report = verify_actions(db)
    db.commit()
    assert report.intact, report.problems
    assert report.entries == n
