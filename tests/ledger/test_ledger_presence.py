"""GET /members/{id}/presence and GET /presence/on-post, on data arranged through the ORM."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.core.policy import CalendarPolicy, Policy
from app.ledger import calendar, service
from app.ledger.models import PresenceDay
from app.org.models import Assignment
from tests.ledger.support import add_fix, at_local, review, today


def presence(world, user, member, start, end):
    r = world.get(user, f"/members/{member}/presence", params={"from": str(start), "to": str(end)})
    assert r.status_code == 200, r.text
    return r.json()


def test_each_day_says_whether_it_counts_and_why(world, db, policy):
    alice = world.members["alice"].id
    t = today()
    d1, d2, d3 = t - timedelta(3), t - timedelta(2), t - timedelta(1)
    add_fix(db, policy, alice, at_local(d1, 8))
    add_fix(db, policy, alice, at_local(d1, 15))  # 7 h apart: present
    add_fix(db, policy, alice, at_local(d2, 8))
    add_fix(db, policy, alice, at_local(d2, 9))  # 1 h apart: partial
    add_fix(db, policy, alice, at_local(d3, 8), credited=False)  # not counted: absent
    db.commit()
    body = presence(world, "alice", "me", d1, t + timedelta(1))
    assert body["member_id"] == alice
    days = body["days"]
    assert [d["status"] for d in days] == ["present", "partial", "absent", "pending", "pending"]
    assert [d["counted_checkins"] for d in days] == [2, 2, 0, 0, 0]
    assert days[0]["first_counted_at"] is not None
    assert days[0]["village_code"] == "430121001001"
    assert body["calendar"]["source"] in ("official", "fallback")


def test_a_voided_fix_stops_counting_and_a_restore_brings_it_back(world, db, policy):
    alice = world.members["alice"].id
    day = today() - timedelta(5)
    add_fix(db, policy, alice, at_local(day, 7))
    late = add_fix(db, policy, alice, at_local(day, 19))
    db.commit()
    assert presence(world, "county", alice, day, day)["days"][0]["status"] == "present"
    review(db, policy, late, "void", world.users["county"].id)
    db.commit()
    assert presence(world, "county", alice, day, day)["days"][0]["status"] == "partial"
    review(db, policy, late, "restore", world.users["county"].id)
    db.commit()
    assert presence(world, "county", alice, day, day)["days"][0]["status"] == "present"


def test_days_outside_an_assignment_are_unassigned_and_scope_is_enforced(world, db):
    alice = world.members["alice"].id
    start = db.scalar(select(Assignment.start_date).where(Assignment.member_id == alice))
    db.commit()  # end the read: SQLite transactions hold the write lock
    days = presence(world, "township1", alice, start - timedelta(2), start)["days"]
    assert [d["status"] for d in days] == ["unassigned", "unassigned", "absent"]
    assert days[0]["village_code"] is None
    path = f"/members/{alice}/presence"
    assert world.get("township2", path).status_code == 404
    assert world.get("bob", path).status_code == 404
    assert world.get("othercounty", path).status_code == 404
    assert world.get("unit", path).status_code == 200
    r = world.get(
        "alice", "/members/me/presence", params={"from": "2026-05-02", "to": "2026-05-01"}
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid_range")


def test_a_day_back_early_is_present_and_the_return_frees_the_rest(world, db, policy):
    alice = world.members["alice"].id
    t = today()
    leave = world.post(
        "alice",
        "/leave-requests",
        json={
            "type": "sick",
            "start_date": str(t - timedelta(4)),
            "end_date": str(t + timedelta(2)),
            "reason": "住院",
            "emergency": True,
        },
    ).json()
    assert world.post("county", f"/leave-requests/{leave['id']}/approve").status_code == 200
    back = t - timedelta(2)
    add_fix(db, policy, alice, at_local(back, 8))
    add_fix(db, policy, alice, at_local(back, 18))
    db.commit()
    days = presence(world, "alice", "me", t - timedelta(4), t + timedelta(2))["days"]
    assert [d["status"] for d in days] == ["leave", "leave", "present"] + ["leave"] * 4
    assert {d["leave_id"] for d in days} == {leave["id"]}

    r = world.post(
        "alice", f"/leave-requests/{leave['id']}/return", json={"returned_on": str(back)}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["returned_on"]) == ("returned", str(back))
    days = presence(world, "alice", "me", t - timedelta(4), t + timedelta(2))["days"]
    assert [d["status"] for d in days] == ["leave", "leave", "present", "absent"] + ["pending"] * 3
    assert [d["leave_id"] for d in days][2:] == [None] * 5
    # Reporting back twice is refused.
    r = world.post("alice", f"/leave-requests/{leave['id']}/return", json={"returned_on": str(t)})
    assert r.json()["code"] == "invalid_transition"


def test_staying_past_the_end_of_leave_is_an_overstay(world, db, policy):
    alice = world.members["alice"].id
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
    world.post("township1", f"/leave-requests/{leave['id']}/approve")
    body = presence(world, "county", alice, t - timedelta(8), t)
    assert body["overstays"] == [
        {"leave_id": leave["id"], "start": str(t - timedelta(6)), "end": str(t - timedelta(1))}
    ]
    statuses = [(d["status"], d["violation"]) for d in body["days"]]
    assert statuses[:2] == [("leave", None)] * 2
    assert statuses[2:8] == [("absent", "leave_overstay")] * 6
    assert statuses[8] == ("pending", None)

    # One counted fix four days ago: back from then on.
    add_fix(db, policy, alice, at_local(t - timedelta(4), 10))
    db.commit()
    spans = service.overstays(db, policy, alice, t - timedelta(30), t)
    assert [(s.start, s.end) for s in spans] == [(t - timedelta(6), t - timedelta(5))]
    # The overdue event is queued once.
    from app.core.outbox import OutboxEvent
    from app.leave.service import record_overdue

    assert record_overdue(db, policy, t) == 1
    assert record_overdue(db, policy, t) == 0
    assert db.scalars(select(OutboxEvent.topic).where(OutboxEvent.topic == "leave.overdue")).all()


def test_on_post_rates_by_village_township_and_county(world, db, policy):
    t = today()
    day = t - timedelta(1)
    for who in ("alice", "carol"):
        member = world.members[who].id
        village = "430121001001" if who == "alice" else "430121002001"
        add_fix(db, policy, member, at_local(day, 8), village=village)
        add_fix(db, policy, member, at_local(day, 17), village=village)
    db.commit()
    leave = world.post(
        "bob",
        "/leave-requests",
        json={"type": "official", "start_date": str(day), "end_date": str(day), "emergency": True},
    ).json()
    world.post("township1", f"/leave-requests/{leave['id']}/approve")

    r = world.get("city", "/presence/on-post", params={"date": str(day)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"]["assigned"] == 4
    assert (body["total"]["present"], body["total"]["on_leave"]) == (2, 1)
    assert body["total"]["on_post_rate"] == 0.5
    assert body["total"]["on_post_rate_excluding_leave"] == pytest.approx(2 / 3, abs=1e-4)
    by_code = {v["code"]: v for v in body["villages"]}
    assert by_code["430121001002"]["on_leave"] == 1
    assert by_code["430122001001"]["present"] == 0
    assert [c["code"] for c in body["counties"]] == ["430121", "430122"]
    assert {t["code"]: t["assigned"] for t in body["townships"]} == {
        "430121001": 2,
        "430121002": 1,
        "430122001": 1,
    }
    # Scoped: a township sees its own; a wider scope is narrowed to the caller's.
    own = world.get("township1", "/presence/on-post", params={"date": str(day), "scope": "4301"})
    assert [v["code"] for v in own.json()["villages"]] == ["430121001001", "430121001002"]
    other = world.get(
        "othercounty", "/presence/on-post", params={"date": str(day), "scope": "430121"}
    )
    assert (other.status_code, other.json()["code"]) == (404, "scope_not_found")
    assert world.get("alice", "/presence/on-post").status_code == 403


def test_working_days_follow_the_official_calendar_and_fall_back_after_it():
    plain = CalendarPolicy()
    assert calendar.is_workday(date(2026, 10, 1), plain) is False  # National Day
    assert calendar.is_workday(date(2026, 2, 14), plain) is True  # a make-up Saturday (调休)
    assert calendar.is_workday(date(2026, 2, 21), plain) is False
    assert calendar.source_of([date(2026, 12, 31)]) == ("official", [])
    assert calendar.source_of([date(2026, 12, 31), date(2027, 1, 4)]) == ("fallback", [2027])
    assert calendar.is_workday(date(2027, 1, 4), plain) is True  # a Monday, by the fallback
    assert calendar.is_workday(date(2027, 1, 9), plain) is False  # a Saturday
    own = CalendarPolicy(holidays=(date(2027, 1, 4),), workdays=(date(2027, 1, 9),))
    assert calendar.is_workday(date(2027, 1, 4), own) is False
    assert calendar.is_workday(date(2027, 1, 9), own) is True


@pytest.fixture
def policy() -> Policy:
    return Policy(calendar=CalendarPolicy(holidays=(date(2027, 2, 8),)))


def test_the_presence_response_says_when_the_calendar_fell_back(world):
    body = presence(world, "alice", "me", date(2026, 12, 30), date(2027, 2, 8))
    assert body["calendar"] == {"source": "fallback", "fallback_years": [2027]}
    days = {d["date"]: d for d in body["days"]}
    assert days["2027-02-08"]["workday"] is False  # a Monday the policy makes a holiday
    assert days["2027-02-05"]["workday"] is True
    assert days["2026-12-31"]["workday"] is True
    assert presence(world, "alice", "me", date(2026, 10, 1), date(2026, 10, 1))["calendar"] == {
        "source": "official",
        "fallback_years": [],
    }
    assert (
        presence(world, "alice", "me", date(2026, 10, 1), date(2026, 10, 1))["days"][0]["workday"]
        is False
    )


def test_rebuild_gives_back_what_the_writes_made(world, db, policy):
    from tests.ledger.support import ledger_rows

    alice = world.members["alice"].id
    add_fix(db, policy, alice, at_local(today() - timedelta(9), 9))
    db.commit()
    before = ledger_rows(db)
    assert before
    db.execute(PresenceDay.__table__.delete())
    result = service.rebuild(db, policy)
    db.commit()
    assert result.days == len(before)
    assert ledger_rows(db) == before


def test_the_rebuild_command_recomputes_a_member_and_a_period(
    world, db, policy, db_url, monkeypatch
):
    from typer.testing import CliRunner

    from app.cli import cli
    from app.core.config import get_settings
    from app.core.policy import get_policy
    from tests.ledger.support import ledger_rows

    alice = world.members["alice"].id
    day = today() - timedelta(3)
    add_fix(db, policy, alice, at_local(day, 8))
    add_fix(db, policy, alice, at_local(day, 16))
    db.commit()
    before = ledger_rows(db)
    db.execute(PresenceDay.__table__.delete())
    db.commit()
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    get_policy.cache_clear()
    try:
        args = ["ledger", "rebuild", "--member", str(alice), "--from", str(day), "--to", str(day)]
        result = CliRunner().invoke(cli, args)
    finally:
        get_settings.cache_clear()
        get_policy.cache_clear()
    assert result.exit_code == 0, result.output
    assert "rebuilt 1 ledger day(s) of 1 member(s)" in result.output
    assert ledger_rows(db) == before
