"""Compliance through the API: pace as the quarter goes, bad periods, scoping, the city list,
leave overstays and suspicious fixes."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.policy import Policy
from tests.compliance.support import (
    Q4_END,
    Q4_START,
    STORY_POLICY,
    add_member,
    at_local,
    days,
    fix,
    leave,
    live_in,
    set_today,
    workdays,
)

EAST, WEST, SOUTH, OTHER_COUNTY = "430121001001", "430121001002", "430121002001", "430122001001"


@pytest.fixture
def policy() -> Policy:
    return STORY_POLICY


def member_path(world, key: str) -> str:
    return f"/compliance/members/{world.members[key].id}"


def test_pace_on_track_at_risk_and_unattainable_mid_quarter(world, app):
    today = date(2025, 11, 17)  # a Monday, 47 days into the quarter
    set_today(app, today)
    before = workdays(Q4_START, date(2025, 11, 16))
    add_member(world, "steady", EAST, date(2025, 1, 1))
    add_member(world, "slack", EAST, date(2025, 1, 1))
    add_member(world, "gone", WEST, date(2025, 1, 1))
    live_in(world, "steady", EAST, before)  # about 30 days by now
    live_in(world, "slack", EAST, before[:15])  # 15: below 50 × 47/92
    bodies = {
        k: world.get("county", member_path(world, k), params={"period": "2025Q4"}).json()
        for k in ("steady", "slack", "gone")
    }
    assert bodies["steady"]["status"] == "on_track"
    assert bodies["slack"]["status"] == "at_risk"
    # 45 days remain (today counts): 0 + 45 < 50
    assert bodies["gone"]["remaining_days"] == (Q4_END - today).days + 1
    assert bodies["gone"]["status"] == "unattainable"
    assert bodies["slack"]["needed_days"] == 50 - 15
    assert bodies["slack"]["absent_workdays"] == len(before) - 15


@pytest.mark.parametrize("period", ["2026Q5", "2026-13", "abc", "2026-11", "2026", "26Q1"])
def test_bad_periods_answer_invalid_period(world, period):
    r = world.get("county", member_path(world, "alice"), params={"period": period})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_period"
    r = world.get("county", "/compliance", params={"period": period})
    assert r.json()["code"] == "invalid_period"


def test_members_see_themselves_only_and_scope_is_enforced(world):
    alice = member_path(world, "alice")
    assert world.get("alice", alice, params={"period": "2026Q3"}).status_code == 200
    assert world.get("bob", alice, params={"period": "2026Q3"}).status_code == 404
    assert world.get("township2", alice, params={"period": "2026Q3"}).status_code == 404
    assert world.get("othercounty", alice).json()["code"] == "member_not_found"
    assert world.get("unit", alice, params={"period": "2026Q3"}).status_code == 200  # her unit
    assert world.get("unit", member_path(world, "carol")).status_code == 404
    # the list: members may not call it; a scope outside the caller's is scope_not_found
    assert world.get("alice", "/compliance").json()["code"] == "role_required"
    r = world.get("township1", "/compliance", params={"scope": "430121002"})
    assert (r.status_code, r.json()["code"]) == (404, "scope_not_found")
    r = world.get("unit", "/compliance", params={"unit": "市交通运输局"})
    assert (r.status_code, r.json()["code"]) == (404, "scope_not_found")
    r = world.get("county", "/compliance", params={"unit": "没有这个单位"})
    assert r.json()["code"] == "scope_not_found"
    assert world.get("county", "/compliance", params={"scope": "43x"}).status_code == 422


def test_the_list_counts_the_whole_scope_worst_first_in_pages(world, app):
    set_today(app, date(2026, 1, 10))
    work = workdays(Q4_START, Q4_END)
    add_member(world, "full", EAST, date(2025, 1, 1))
    add_member(world, "half", EAST, date(2025, 1, 1))
    add_member(world, "none", SOUTH, date(2025, 1, 1), unit="市交通运输局")
    add_member(world, "far", OTHER_COUNTY, date(2025, 1, 1))
    live_in(world, "full", EAST, work)
    live_in(world, "half", EAST, work[:30])
    r = world.get("county", "/compliance", params={"period": "2025Q4", "limit": 1})
    body = r.json()
    assert (body["period"], body["quarter"]) == ("2025Q4", "2025Q4")
    # alice, bob and carol were not assigned in 2025; the other county's member is out of scope
    assert body["summary"] == {
        "missed": 2, "unattainable": 0, "at_risk": 0, "on_track": 0, "met": 1,
    }  # fmt: skip
    names = [body["items"][0]["full_name"]]
    while body["next_cursor"]:
        body = world.get(
            "county", "/compliance",
            params={"period": "2025Q4", "limit": 1, "cursor": body["next_cursor"]},
        ).json()  # fmt: skip
        names += [i["full_name"] for i in body["items"]]
    assert names == ["none", "half", "full"]  # missed by 50, missed by 20, met
    first = world.get("county", "/compliance", params={"period": "2025Q4"}).json()["items"][0]
    assert first["violations"]["absent_run"] >= 1
    assert (first["required_days"], first["present_days"], first["needed_days"]) == (50, 0, 50)
    assert first["unit"] == "市交通运输局"
    assert first["village_code"] == SOUTH
    only_met = world.get("county", "/compliance", params={"period": "2025Q4", "status": "met"})
    assert [i["full_name"] for i in only_met.json()["items"]] == ["full"]
    assert only_met.json()["summary"]["missed"] == 2  # the summary is the whole scope's
    # a unit user sees its own people across every village they serve in (two counties here)
    mine = world.get("unit", "/compliance", params={"period": "2025Q4"}).json()
    assert sorted(i["full_name"] for i in mine["items"]) == ["far", "full", "half"]
    narrowed = world.get("city", "/compliance", params={"period": "2025Q4", "scope": "430121002"})
    assert [i["full_name"] for i in narrowed.json()["items"]] == ["none"]
    assert world.get("county", "/compliance", params={"cursor": "%%%"}).status_code == 422


def test_staying_past_leave_is_an_overstay_as_the_ledger_says(world, app):
    set_today(app, date(2026, 1, 10))
    add_member(world, "sun", EAST, date(2025, 1, 1))
    away = leave(world, "sun", "personal", date(2025, 12, 1), date(2025, 12, 3), "township1")
    live_in(world, "sun", EAST, days(date(2025, 12, 8), date(2025, 12, 12)))
    body = world.get("county", member_path(world, "sun"), params={"period": "2025Q4"}).json()
    overstay = [v for v in body["violations"] if v["code"] == "leave_overstay"]
    assert [(v["from"], v["to"]) for v in overstay] == [("2025-12-04", "2025-12-07")]
    assert f"#{away['id']}" in overstay[0]["detail"]
    ledger = world.get(
        "county",
        f"/members/{world.members['sun'].id}/presence",
        params={"from": "2025-12-01", "to": "2025-12-31"},
    ).json()
    assert [(o["start"], o["end"]) for o in ledger["overstays"]] == [("2025-12-04", "2025-12-07")]


def test_fixes_with_a_serious_flag_are_suspicious(world, app):
    set_today(app, date(2026, 1, 10))
    add_member(world, "zhou", EAST, date(2025, 1, 1))
    mock = fix(EAST, at_local(date(2025, 11, 5), 9)) | {"is_mock": True}
    ok = fix(EAST, at_local(date(2025, 11, 6), 9))
    r = world.post("zhou", "/checkins/batch", json={"items": [mock, ok]})
    assert [x["status"] for x in r.json()["results"]] == ["created", "created"]
    body = world.get("county", member_path(world, "zhou"), params={"period": "2025Q4"}).json()
    found = [v for v in body["violations"] if v["code"] == "suspicious_checkins"]
    assert [(v["date"], v["from"]) for v in found] == [("2025-11-05", None)]
    assert "1 check-in(s)" in found[0]["detail"]


def test_a_year_the_holiday_library_does_not_know_falls_back_and_says_so(world, app):
    set_today(app, date(2027, 2, 1))
    body = world.get("county", member_path(world, "alice"), params={"period": "2027Q1"}).json()
    assert body["calendar"] == {"source": "fallback", "fallback_years": [2027]}
    assert body["status"] == "at_risk"


def test_annual_evaluation_lists_the_quarters_and_zero_supervision_counts(world, app):
    set_today(app, date(2026, 1, 10))
    add_member(world, "wu", EAST, date(2025, 1, 1))
    leave(world, "wu", "sick", date(2025, 11, 3), date(2025, 11, 7), "county")
    live_in(world, "wu", EAST, workdays(Q4_START, date(2025, 10, 31)))
    body = world.get("county", f"{member_path(world, 'wu')}/annual", params={"year": 2025}).json()
    assert [q["quarter"] for q in body["quarters"]] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert [q["status"] for q in body["quarters"]] == ["missed"] * 4
    assert body["leave_days"] == 5
    assert body["roll_calls"] == {"issued": 0, "answered": 0}
    assert body["events"] == {"reported": 0, "late": 0}
    assert body["rectifications"] == {"opened": 0, "closed": 0, "overdue": 0}
    assert any(v["code"] == "absent_run" for v in body["violations"])
    assert world.get("bob", f"{member_path(world, 'wu')}/annual").status_code == 404


def test_a_county_lists_the_members_who_served_there_in_the_period(world, app):
    from app.org.models import Assignment

    set_today(app, date(2026, 1, 10))
    mover = add_member(world, "mover", OTHER_COUNTY, date(2025, 1, 1), date(2025, 6, 30))
    world.db.add(Assignment(member_id=mover, village_code=EAST, start_date=date(2025, 7, 1)))
    world.db.commit()

    def listed(user: str, period: str) -> list[str]:
        r = world.get(user, "/compliance", params={"period": period})
        return [i["full_name"] for i in r.json()["items"]]

    assert listed("othercounty", "2025Q2") == ["mover"]
    assert listed("othercounty", "2025Q4") == []
    assert listed("county", "2025Q4") == ["mover"]
    assert listed("county", "2025Q2") == []
