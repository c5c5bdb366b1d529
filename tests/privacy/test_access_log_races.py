"""Parallel reads of members' positions append to one unforked access chain (PostGIS; SQLite's
BEGIN IMMEDIATE serialises writers already).

Deterministic: a third transaction holds the chain's head row while every read arrives, so all
of them are inside their transactions, about to append, before any may go on."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, text

from app.audit import rules
from app.audit.access import verify_access
from app.audit.models import AccessEntry, AccessHead
from app.core.db import make_engine
from tests.checkins.helpers import fix
from tests.live import live_server
from tests.locks import wait_for_lock_waiters

pytestmark = pytest.mark.postgis

READS = 8


def test_parallel_reads_make_one_unforked_access_chain(world, app, db, db_url):
    for who, village in (("alice", "430121001001"), ("bob", "430121001002")):
        answer = world.post(who, "/checkins", json=fix(village, ago=timedelta(hours=1)))
        assert answer.status_code == 201, answer.text
    members = [world.members["alice"].id, world.members["bob"].id]
    holder_engine = make_engine(db_url)
    try:
        with live_server(app) as base, ThreadPoolExecutor(READS) as pool:
            holder = holder_engine.connect()
            holder.execute(  # the test database is emptied between tests, head row included
                text(
                    "INSERT INTO audit_access_head (id, seq, last_hash) VALUES (1, 0, :h)"
                    " ON CONFLICT DO NOTHING"
                ),
                {"h": rules.GENESIS_HASH},
            )
            holder.commit()
            holder.execute(text("SELECT seq FROM audit_access_head WHERE id = 1 FOR UPDATE"))

            def read(k: int) -> int:
                with httpx.Client(base_url=base, timeout=90) as http:
                    return http.get(
                        "/api/v1/checkins",
                        params={"member_id": members[k % 2]},
                        headers=world.headers("township1" if k % 2 else "county"),
                    ).status_code

            futures = [pool.submit(read, k) for k in range(READS)]
            wait_for_lock_waiters(
                holder_engine, READS, timeout_s=30, what="reads waited on the access head"
            )
            holder.commit()
            holder.close()
            statuses = [f.result() for f in futures]
    finally:
        holder_engine.dispose()
    assert statuses == [200] * READS
    entries = list(db.scalars(select(AccessEntry).order_by(AccessEntry.seq)))
    assert [e.seq for e in entries] == list(range(1, READS + 1))
    for prev, entry in itertools.pairwise(entries):
        assert entry.prev_hash == prev.hash
    head = db.get(AccessHead, 1)
    assert (head.seq, head.last_hash) == (READS, entries[-1].hash)
    report = verify_access(db, None)
    db.commit()
    assert report.intact, report.problems
    assert report.entries == READS
