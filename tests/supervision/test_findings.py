"""What compliance reads from supervision (app/supervision/findings.py), arranged through the
real API and read with the functions compliance calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from app.supervision.findings import (
    AnnualSupervision,
    Finding,
    annual_supervision,
    findings_for_members,
)
from app.supervision.models import RollCall
from tests.checkins.helpers import fix
from tests.ledger.support import today
from tests.supervision.support import add_member, age_roll_call, set_due_date, yesterday_at

VILLAGE = "430121001001"


def closed_roll_call(world):
    """A county roll call whose 30-minute window closed 90 minutes ago; alice answered in time
    from inside, carol from 5 km away, bob not at all."""
    call = world.post(
        "county", "/roll-calls", json={"scope": "430121", "window_minutes": 30, "message": "点名"}
    ).json()
    age_roll_call(world.db, call["id"], timedelta(hours=2))
    issued_at = world.db.scalar(select(RollCall.issued_at).where(RollCall.id == call["id"]))
    world.db.commit()
    at = issued_at.replace(tzinfo=UTC) + timedelta(minutes=5)
    rid = str(call["id"])
    for user, village, dlat in (("alice", VILLAGE, 0.0), ("carol", "430121002001", 0.045)):
        r = world.post(user, "/checkins", json=fix(village, at=at, dlat=dlat, roll_call_id=rid))
        assert r.status_code == 201, r.text
    return call["id"]


def test_findings_name_missed_roll_calls_discrepancies_and_late_reports(world, db, policy):
    frank = add_member(world, "frank", VILLAGE, position="first_secretary")
    call_id = closed_roll_call(world)
    assert (
        world.post("frank", "/checkins", json=fix(VILLAGE, at=yesterday_at(9.5))).status_code == 201
    )
    visit = {
        "village_code": VILLAGE,
        "visited_at": yesterday_at(10).isoformat(),
        "found_absent": [frank.id],
        "found_present": [],
    }
    inspection = world.post("county", "/inspections", json=visit).json()
    occurred = datetime.now(UTC) - timedelta(days=3)
    r = world.post(
        "alice",
        "/events",
        json={
            "kind": "petition",
            "occurred_at": occurred.isoformat(),
            "summary": "上访",
            "village_code": VILLAGE,
        },
    )
    assert r.status_code == 201

    m = world.members
    ids = [m[k].id for k in ("alice", "bob", "carol", "dave", "frank")]
    found = findings_for_members(db, policy, ids, today() - timedelta(days=7), today())
    db.commit()
    codes = {member_id: [(f.code, f.date) for f in fs] for member_id, fs in found.items()}
    local_occurred = occurred.astimezone(policy.zone).date()
    assert codes == {
        m["alice"].id: [("late_event_report", local_occurred)],
        m["bob"].id: [("missed_roll_call", today())],
        m["carol"].id: [("missed_roll_call", today())],
        # frank was called too (assigned under the scope) and did not answer.
        frank.id: [
            ("inspection_discrepancy", today() - timedelta(days=1)),
            ("missed_roll_call", today()),
        ],
    }
    [carol] = found[m["carol"].id]
    assert carol == Finding(
        m["carol"].id, "missed_roll_call", today(), None, None, f"roll call {call_id}: outside"
    )
    assert f"inspection {inspection['id']}" in found[frank.id][0].detail

    # A range that holds none of it finds nothing.
    old = today() - timedelta(days=60)
    assert findings_for_members(db, policy, ids, old, old + timedelta(days=7)) == {}
    assert findings_for_members(db, policy, [], old, today()) == {}
    db.commit()


def test_findings_cost_the_same_statements_for_one_member_or_many(world, db, policy):
    for key in ("erin", "gina", "hank"):
        add_member(world, key, VILLAGE)
    closed_roll_call(world)
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.get_bind(), "before_cursor_execute", listener)
    try:
        findings_for_members(db, policy, [world.members["bob"].id], today(), today())
        db.commit()
        one = len(statements)
        statements.clear()
        findings_for_members(db, policy, [m.id for m in world.members.values()], today(), today())
        db.commit()
        many = len(statements)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", listener)
        db.commit()
    assert many == one


def test_annual_supervision_counts_the_members_year(world, db, policy):
    closed_roll_call(world)
    alice = world.members["alice"].id
    occurred = datetime.now(UTC) - timedelta(days=2)
    world.post(
        "alice",
        "/events",
        json={
            "kind": "safety",
            "occurred_at": occurred.isoformat(),
            "summary": "山体滑坡",
            "village_code": VILLAGE,
        },
    )
    world.post(
        "alice",
        "/events",
        json={
            "kind": "other",
            "occurred_at": datetime.now(UTC).isoformat(),
            "summary": "走访",
            "village_code": VILLAGE,
        },
    )
    ids = []
    for _ in range(3):
        r = world.post(
            "county",
            "/rectifications",
            json={
                "member_id": alice,
                "source": {"kind": "manual"},
                "requirement": "整改",
                "due_date": str(today() + timedelta(days=5)),
            },
        )
        ids.append(r.json()["id"])
    assert (
        world.post("county", f"/rectifications/{ids[0]}/close", json={"evidence": "ok"}).status_code
        == 200
    )
    set_due_date(world.db, ids[1], today() - timedelta(days=1))

    year = today().year
    record = annual_supervision(db, policy, alice, year)
    assert record == AnnualSupervision(
        roll_calls_issued=1,
        roll_calls_answered=1,
        events_reported=2,
        events_late=1,
        rectifications_opened=3,
        rectifications_closed=1,
        rectifications_overdue=1,
    )
    bob = annual_supervision(db, policy, world.members["bob"].id, year)
    assert (bob.roll_calls_issued, bob.roll_calls_answered, bob.events_reported) == (1, 0, 0)
    assert annual_supervision(db, policy, alice, year - 1) == AnnualSupervision(0, 0, 0, 0, 0, 0, 0)
    db.commit()
