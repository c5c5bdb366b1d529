"""Read-then-write under concurrency (PostGIS): a rectification is closed once and an event
acknowledged once, however many reviewers race; each transition is in the trail once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.supervision.models import EventReport, RectificationTransition
from tests.ledger.support import today

THREADS = 12
pytestmark = pytest.mark.postgis


def _race(world, paths):
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(lambda up: world.post(up[0], up[1], json=up[2]), paths))


def test_racing_reviewers_close_a_rectification_once(world, db):
    item = world.post(
        "township1",
        "/rectifications",
        json={
            "member_id": world.members["alice"].id,
            "source": {"kind": "manual"},
            "requirement": "补齐驻村天数",
            "due_date": str(today() + timedelta(days=10)),
        },
    ).json()
    users = ["county", "city", "township1"] * (THREADS // 3)
    answers = _race(
        world,
        [(u, f"/rectifications/{item['id']}/close", {"evidence": f"by {u}"}) for u in users],
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [409] * (THREADS - 1)
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"invalid_transition"}
    closed = db.scalar(
        select(func.count())
        .select_from(RectificationTransition)
        .where(RectificationTransition.to_status == "closed")
    )
    db.commit()
    assert closed == 1


def test_racing_reviewers_acknowledge_an_event_once(world, db):
    event = world.post(
        "alice",
        "/events",
        json={
            "kind": "dispute",
            "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "summary": "土地纠纷",
            "village_code": "430121001001",
        },
    ).json()
    users = ["county", "township1", "city"] * (THREADS // 3)
    answers = _race(world, [(u, f"/events/{event['id']}/acknowledge", {}) for u in users])
    ok = [r for r in answers if r.status_code == 200]
    assert len(ok) == 1
    assert sorted(r.status_code for r in answers if r.status_code != 200) == [409] * (THREADS - 1)
    stored = db.get(EventReport, event["id"])
    db.commit()
    assert stored.acknowledged_by == ok[0].json()["acknowledged_by"]
