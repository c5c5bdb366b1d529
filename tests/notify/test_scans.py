"""The overdue scans queue each overdue thing once, even two scans at once (PostGIS)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text, update

from app.core.db import make_session_factory, session_scope
from app.leave.service import record_overdue
from app.supervision.models import Rectification
from app.supervision.overdue import record_overdue_rectifications
from tests.ledger.support import today
from tests.notify.conftest import events, wait_until
from tests.notify.test_webhooks import all_settled


def test_a_rectification_left_open_past_its_due_date_is_announced_once(world, engine, loopback):
    r = world.post(
        "county",
        "/rectifications",
        json={
            "member_id": world.members["bob"].id,
            "source": {"kind": "manual"},
            "requirement": "补齐走访记录",
            "due_date": str(today()),
        },
    )
    assert r.status_code == 201, r.text
    with session_scope(make_session_factory(engine)) as session:
        assert record_overdue_rectifications(session, today()) == 0  # due today: not yet
        assert record_overdue_rectifications(session, today() + timedelta(days=1)) == 1
    with session_scope(make_session_factory(engine)) as session:
        assert record_overdue_rectifications(session, today() + timedelta(days=2)) == 0
    loopback.wecom.wait_for(lambda got: len(got) == 1)
    content = loopback.wecom.requests[0].json()["markdown"]["content"]
    assert content.startswith("### 【驻村】整改逾期\n> 对象：**Bob**（西山村）")
    assert "> 整改要求：补齐走访记录" in content
    [event] = events(engine, "rectification.overdue")
    assert event.payload["overdue_since"] == str(today() + timedelta(days=1))
    wait_until(engine, lambda rows: len(rows) == 3 and all_settled(rows))


@pytest.mark.postgis
def test_two_overdue_scans_at_once_announce_each_item_once(world, engine):
    for key in ("alice", "bob"):
        r = world.post(
            "county",
            "/rectifications",
            json={
                "member_id": world.members[key].id,
                "source": {"kind": "manual"},
                "requirement": "整改",
                "due_date": str(today()),
            },
        )
        assert r.status_code == 201, r.text
    later = today() + timedelta(days=1)
    factory = make_session_factory(engine)
    first, second = factory(), factory()
    try:
        # Were the scan to wait for the first one's rows, it would fail here, not hang.
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        assert record_overdue_rectifications(first, later) == 2  # holds both rows
        assert record_overdue_rectifications(second, later) == 0  # skips what the first holds
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    assert len(events(engine, "rectification.overdue")) == 2


def test_a_closed_rectification_is_never_overdue(world, engine):
    r = world.post(
        "county",
        "/rectifications",
        json={
            "member_id": world.members["alice"].id,
            "source": {"kind": "manual"},
            "requirement": "整改",
            "due_date": str(today()),
        },
    )
    with session_scope(make_session_factory(engine)) as session:
        session.execute(
            update(Rectification).where(Rectification.id == r.json()["id"]).values(status="closed")
        )
    with session_scope(make_session_factory(engine)) as session:
        assert record_overdue_rectifications(session, today() + timedelta(days=3)) == 0


@pytest.mark.postgis
def test_two_leave_overdue_scans_at_once_announce_each_overstay_once(world, engine, policy):
    t = today()
    leave = world.post(
        "alice",
        "/leave-requests",
        json={
            "type": "personal",
            "start_date": str(t - timedelta(8)),
            "end_date": str(t - timedelta(7)),
            "emergency": True,
        },
    ).json()
    assert world.post("township1", f"/leave-requests/{leave['id']}/approve").status_code == 200
    factory = make_session_factory(engine)
    first, second = factory(), factory()
    try:
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        assert record_overdue(first, policy, t) == 1
        assert record_overdue(second, policy, t) == 0
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    assert len(events(engine, "leave.overdue")) == 1
