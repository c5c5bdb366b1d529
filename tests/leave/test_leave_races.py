"""Parallel transitions of one leave (issue 11, defect 7): each takes the member's lock before
it reads the status, so an approval and a cancel landing together cannot both pass.

Deterministic: a third transaction holds the member's row while both requests arrive, so both
are inside the service before either may go on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import delete, text

from app.core.db import make_engine
from app.ledger import service as ledger_service
from app.ledger.models import PresenceDay
from tests.ledger.support import add_fix, at_local, ledger_rows, today
from tests.live import live_server
from tests.locks import wait_for_lock_waiters

pytestmark = pytest.mark.postgis


def test_parallel_approve_and_cancel_exactly_one_wins(world, app, db_url, db, policy):
    who = "alice"
    member_id = world.members[who].id
    add_fix(db, policy, member_id, at_local(today(), 9))
    db.commit()
    r = world.post(
        who,
        "/leave-requests",
        json={"type": "personal", "start_date": str(today()), "end_date": str(today())},
    )
    assert r.status_code == 201, r.text
    leave_id = r.json()["id"]

    holder_engine = make_engine(db_url)
    try:
        with live_server(app) as base, ThreadPoolExecutor(2) as pool:
            holder = holder_engine.connect()
            holder.execute(
                text("SELECT id FROM members WHERE id = :m FOR UPDATE"), {"m": member_id}
            )

            def act(user: str, action: str) -> int:
                with httpx.Client(base_url=base, timeout=60) as http:
                    return http.post(
                        f"/api/v1/leave-requests/{leave_id}/{action}",
                        headers=world.headers(user),
                        json={},
                    ).status_code

            approve = pool.submit(act, "township1", "approve")
            cancel = pool.submit(act, who, "cancel")
            wait_for_lock_waiters(
                holder_engine, 2, timeout_s=20, what="requests waited on the member's lock"
            )
            holder.commit()
            holder.close()
            statuses = sorted([approve.result(), cancel.result()])
    finally:
        holder_engine.dispose()

    assert statuses == [200, 409]
    final = world.get("county", f"/leave-requests/{leave_id}").json()
    assert final["status"] in ("approved", "cancelled")
    assert [h["to_status"] for h in final["history"]] == ["pending", final["status"]]
    incremental = ledger_rows(db)
    db.execute(delete(PresenceDay))
    ledger_service.rebuild(db, policy)
    db.commit()
    assert ledger_rows(db) == incremental
