"""The stories of issue 8 run through the real API: a fourth quarter of 2025 (National Day,
1-8 October, and its 调休 Saturday, 11 October)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core.policy import Policy
from tests.compliance.support import (
    Q4_END,
    Q4_START,
    STORY_POLICY,
    add_member,
    days,
    leave,
    live_in,
    set_today,
    upload,
    workdays,
)

EAST, WEST, SOUTH = "430121001001", "430121001002", "430121002001"
ADJUSTED_SATURDAY = date(2025, 10, 11)


@pytest.fixture
def policy() -> Policy:
    return STORY_POLICY


def get(world, user, member, **params):
    r = world.get(user, f"/compliance/members/{world.members[member].id}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_present_every_working_day_meets_the_quota(world, app):
    set_today(app, date(2026, 1, 10))
    add_member(world, "zhang", EAST, date(2025, 1, 1))
    work = workdays(Q4_START, Q4_END)
    live_in(world, "zhang", EAST, work)
    body = get(world, "county", "zhang", period="2025Q4")
    assert body["status"] == "met"
    assert body["quarter"] == body["period"] == "2025Q4"
    assert body["rule"] == {"period": "quarter", "days": 50, "official_counts": False}
    assert (body["required_days"], body["pro_rated"]) == (50, False)
    assert body["present_days"] == len(work)
    assert (body["absent_workdays"], body["leave_days"], body["needed_days"]) == (0, 0, 0)
    assert body["remaining_days"] == 0
    assert body["violations"] == []
    assert body["calendar"] == {"source": "official", "fallback_years": []}
    # quarter= is the v1 synonym; the member sees themself
    assert get(world, "zhang", "zhang", quarter="2025Q4")["status"] == "met"


def test_national_day_is_no_absence_and_the_adjusted_saturday_is_a_working_day(world, app):
    set_today(app, date(2026, 1, 10))
    add_member(world, "li", EAST, date(2025, 1, 1))
    work = workdays(Q4_START, Q4_END)
    assert ADJUSTED_SATURDAY in work
    assert date(2025, 10, 6) not in work
    live_in(world, "li", EAST, [d for d in work if d != ADJUSTED_SATURDAY])
    body = get(world, "county", "li", period="2025Q4")
    assert body["absent_workdays"] == 1  # 1-8 October are holidays; 11 October is not
    assert body["violations"] == [
        {
            "code": "absent_without_leave",
            "date": "2025-10-11",
            "from": None,
            "to": None,
            "detail": body["violations"][0]["detail"],
        }
    ]


def test_a_member_who_starts_mid_quarter_is_pro_rated(world, app):
    set_today(app, date(2026, 1, 10))
    start = date(2025, 11, 16)
    add_member(world, "wang", WEST, start)
    live_in(world, "wang", WEST, workdays(start, Q4_END))
    body = get(world, "county", "wang", period="2025Q4")
    assigned = (Q4_END - start).days + 1
    assert body["pro_rated"] is True
    assert body["required_days"] == -(-50 * assigned // 92)  # rounded up
    assert body["status"] == "met"
    # before the first assignment: nothing required, not an error
    before = get(world, "county", "wang", period="2025Q3")
    assert (before["required_days"], before["status"], before["present_days"]) == (0, "met", 0)


def test_two_weeks_of_approved_sick_leave_are_leave_not_absence(world, app):
    set_today(app, date(2026, 1, 10))
    add_member(world, "zhao", EAST, date(2025, 1, 1))
    sick = (date(2025, 11, 3), date(2025, 11, 16))
    leave(world, "zhao", "sick", *sick)
    work = workdays(Q4_START, Q4_END)
    on_leave = workdays(*sick)
    live_in(world, "zhao", EAST, [d for d in work if d not in on_leave])
    body = get(world, "county", "zhao", period="2025Q4")
    assert body["leave_days"] == len(on_leave) == 10
    assert body["absent_workdays"] == 0
    assert body["present_days"] == len(work) - 10
    assert body["status"] == ("met" if len(work) - 10 >= 50 else "missed")
    assert [v["code"] for v in body["violations"]] == []


def test_the_lunch_visitor_shows_short_visits(world, app):
    set_today(app, date(2026, 1, 10))
    add_member(world, "qian", EAST, date(2025, 1, 1))
    visits = [d for d in days(Q4_START, Q4_END) if d.weekday() in (1, 3)]  # Tue, Thu
    upload(world, "qian", EAST, visits, (11.5, 13.5))  # come, look around, eat, leave
    body = get(world, "county", "qian", period="2025Q4")
    assert body["status"] == "missed"
    assert body["present_days"] == 0
    assert body["short_days"] == len(visits)
    codes = [v["code"] for v in body["violations"]]
    assert codes.count("short_visits") == 1
    assert "absent_run" in codes
    short = next(v for v in body["violations"] if v["code"] == "short_visits")
    assert (short["from"], short["to"]) == (visits[0].isoformat(), visits[-1].isoformat())
    assert f"{len(visits)} day(s)" in short["detail"]


def test_a_rotating_team_is_caught_and_a_team_all_there_is_not(world, app):
    set_today(app, date(2026, 1, 10))
    rotating = ["r-chen", "r-lin", "r-huang"]
    steady = ["s-he", "s-guo", "s-ma"]
    for key in rotating:
        add_member(world, key, SOUTH, date(2025, 1, 1))
    for key in steady:
        add_member(world, key, WEST, date(2025, 1, 1))
    work = workdays(Q4_START, Q4_END)
    for key in steady:
        live_in(world, key, WEST, work)
    # each takes a calendar week in turn
    mondays = sorted({d - timedelta(days=d.weekday()) for d in work})
    for i, key in enumerate(rotating):
        mine = [d for d in work if (mondays.index(d - timedelta(days=d.weekday())) % 3) == i]
        live_in(world, key, SOUTH, mine)
    for key in rotating:
        body = get(world, "county", key, period="2025Q4")
        found = [v for v in body["violations"] if v["code"] == "rotation"]
        assert len(found) == 1, body["violations"]
        detail = found[0]["detail"]
        assert all(name in detail for name in rotating)
        assert "2025-10-13" in detail  # a Monday: weeks are Monday-Sunday
    for key in steady:
        body = get(world, "county", key, period="2025Q4")
        assert body["violations"] == []
        assert body["status"] == "met"
    listed = world.get("county", "/compliance", params={"period": "2025Q4"}).json()
    by_name = {row["full_name"]: row for row in listed["items"]}
    assert by_name["r-chen"]["violations"]["rotation"] == 1
    assert by_name["s-he"]["violations"] == {}
