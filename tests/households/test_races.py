"""PostGIS: two confirmations of one visit racing (the link and the code's token, or two
phones): exactly one wins, the other answers 409."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from app.households.models import Countersign
from tests.households.support import csv_of, households_by_code, import_csv, row, token_of, visit
from tests.ledger.support import today
from tests.live import live_server
from tests.locks import wait_for_lock_waiters

PARALLEL = 4


@pytest.mark.postgis
def test_racing_confirmations_exactly_one_wins(world, app, engine, db):
    assert (
        import_csv(world, csv_of(row("Z1", 0, "alice", today() - timedelta(days=1)))).status_code
        == 200
    )
    household = households_by_code(world)["Z1"]
    v = world.post("alice", "/visits", json=visit(household)).json()
    token = token_of(v["countersign"])
    with live_server(app) as base:

        def go(n: int) -> httpx.Response:
            with httpx.Client(base_url=base, timeout=60) as each:
                return each.post(
                    f"/api/v1/public/countersign/{token}",
                    json={"confirmed": n % 2 == 0, "knows_member": True, "satisfaction": 5},
                    headers={"User-Agent": f"phone-{n}"},
                )

        with engine.connect() as holder, ThreadPoolExecutor(PARALLEL) as pool:
            holder.execute(select(Countersign.id).with_for_update())
            futures = [pool.submit(go, n) for n in range(PARALLEL)]
            wait_for_lock_waiters(engine, PARALLEL, timeout_s=30, what="answers waiting")
            holder.rollback()
            answers = [f.result() for f in futures]
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * (PARALLEL - 1), [a.text for a in answers]
    stored = db.scalars(select(Countersign)).all()
    db.commit()
    assert len(stored) == 1
    assert stored[0].receipt == next(a.json()["receipt"] for a in answers if a.status_code == 200)
