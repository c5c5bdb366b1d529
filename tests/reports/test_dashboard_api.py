"""The data behind the map page, the page shell, and who may see them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.core.policy import DashboardPolicy
from app.reports import rules
from tests.reports.support import seed_story

EXPECTED_STATES = {"430121001001": "good", "430121001002": "leave", "430121002001": "poor"}


@pytest.fixture
def story(world):
    return world, seed_story(world)


def test_overview_colours_villages_by_their_story(story):
    world, today = story
    answer = world.get("county", "/dashboard/overview")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["date"] == today.isoformat()
    states = {v["code"]: v["state"] for v in data["villages"]}
    assert states == EXPECTED_STATES
    for v in data["villages"]:
        assert v["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    risk = {m["member_id"] for m in data["at_risk"]}
    assert world.members["carol"].id in risk
    assert world.members["alice"].id not in risk
    trend = {d["date"]: d for d in data["trend"]}
    assert len(trend) == DashboardPolicy().trend_days
    yesterday = trend[(today - timedelta(days=1)).isoformat()]
    assert (yesterday["assigned"], yesterday["present"], yesterday["on_leave"]) == (3, 1, 1)
    assert yesterday["rate"] == 0.5
    assert trend[today.isoformat()]["rate"] is None


def test_a_past_day_counts_the_day_rule_only(story):
    world, today = story
    day = (today - timedelta(days=4)).isoformat()
    data = world.get("city", "/dashboard/overview", params={"date": day}).json()
    states = {v["code"]: v["state"] for v in data["villages"]}
    # Four days ago bob's leave had not begun: his village was absent.
    assert states == {**EXPECTED_STATES, "430121001002": "poor", "430122001001": "poor"}


def test_village_team_with_last_days(story):
    world, _today = story
    answer = world.get("township1", "/dashboard/villages/430121001001")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["boundary"]["type"] == "MultiPolygon"
    (alice,) = data["team"]
    assert alice["member_id"] == world.members["alice"].id
    assert [d["status"] for d in alice["days"]] == ["present"] * 6 + ["pending"]
    assert alice["days"][-1]["counted_checkins"] == 2


@pytest.mark.parametrize(
    ("who", "path", "status", "code"),
    [
        ("alice", "/dashboard/overview", 403, "role_required"),
        ("unit", "/dashboard/overview", 403, "role_required"),
        ("county", "/dashboard/overview?scope=430122", 404, "scope_not_found"),
        ("township1", "/dashboard/villages/430121002001", 404, "village_not_found"),
        ("county", "/dashboard/overview?date=2098-01-01", 422, "period_in_future"),
    ],
)
def test_refusals(world, who, path, status, code):
    answer = world.get(who, path)
    assert (answer.status_code, answer.json()["code"]) == (status, code)


def test_the_page_is_public_chinese_and_self_contained(client):
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "登录" in page.text
    assert "set-cookie" not in page.headers
    script = client.get("/dashboard/app.js")
    assert script.status_code == 200
    style = client.get("/dashboard/app.css")
    # Works offline: nothing is fetched from another host (the SVG namespace is a name only).
    for text in (page.text, script.text, style.text):
        urls = set(re.findall(r"https?://[^\s\"')]+", text))
        assert urls <= {"http://www.w3.org/2000/svg"}
    assert "sessionStorage" in script.text
    assert "document.cookie" not in script.text


def test_village_state_rule():
    p = DashboardPolicy()
    assert rules.village_state(p, 0, 0, 0) == "empty"
    assert rules.village_state(p, 2, 0, 2) == "leave"
    assert rules.village_state(p, 5, 4, 0) == "good"
    assert rules.village_state(p, 4, 2, 0) == "fair"
    assert rules.village_state(p, 4, 1, 0) == "poor"
    assert rules.village_state(p, 3, 1, 2) == "good"  # on post among those not on leave


def test_a_moved_member_shows_only_the_days_assigned_to_the_village(story):
    from app.org.models import Assignment

    world, today = story
    alice = world.members["alice"].id
    db = world.db
    moved = today - timedelta(days=2)
    first = db.query(Assignment).filter_by(member_id=alice).one()
    first.end_date = moved - timedelta(days=1)
    db.add(Assignment(member_id=alice, village_code="430121002001", start_date=moved))
    db.commit()
    before = world.get("township1", "/dashboard/villages/430121001001").json()
    (days,) = [m["days"] for m in before["team"]]
    assert [d["status"] for d in days] == ["present"] * 4 + ["unassigned"] * 3
    after = world.get("township2", "/dashboard/villages/430121002001").json()
    mine = next(m for m in after["team"] if m["member_id"] == alice)
    assert [d["status"] for d in mine["days"]][:4] == ["unassigned"] * 4
    # The reports follow the same rule: township 1 gets alice's days before the move only.
    rows = world.get(
        "township1",
        "/reports/presence",
        params={
            "from": (today - timedelta(days=6)).isoformat(),
            "to": today.isoformat(),
            "format": "json",
        },
    ).json()["items"]
    assert {r["date"] for r in rows if r["member_id"] == alice} == {
        (today - timedelta(days=k)).isoformat() for k in range(3, 7)
    }


def test_overview_coloured_by_period_compliance(story):
    world, _ = story
    data = world.get("county", "/dashboard/overview", params={"colour": "compliance"}).json()
    assert data["colour_by"] == "compliance"
    listed = world.get("county", "/compliance", params={"period": data["period"]}).json()["items"]
    status = {i["village_code"]: i["status"] for i in listed}
    for v in data["villages"]:
        fine = status[v["code"]] in {"met", "on_track"}
        assert v["state"] == ("good" if fine else "poor"), (v["code"], status[v["code"]])
    behind = {m["member_id"] for m in data["at_risk"]}
    assert behind == {i["member_id"] for i in listed if i["status"] not in {"met", "on_track"}}
    assert all(m["status"] for m in data["at_risk"])


def test_a_new_boundary_is_drawn_at_once(world):
    from datetime import UTC, datetime

    from shapely.geometry import MultiPolygon, box, shape
    from sqlalchemy import update

    from app.org.boundaries import bump_boundary_revision
    from app.org.models import VillageBoundary

    before = world.get("county", "/dashboard/overview").json()
    first = {v["code"]: shape(v["geometry"]) for v in before["villages"]}
    code = "430121001001"
    now = datetime.now(UTC)
    db = world.db
    db.execute(
        update(VillageBoundary)
        .where(VillageBoundary.village_code == code, VillageBoundary.valid_to.is_(None))
        .values(valid_to=now)
    )
    db.add(
        VillageBoundary(
            village_code=code,
            boundary=MultiPolygon([box(113.0, 28.3, 113.01, 28.31)]),
            valid_from=now,
        )
    )
    bump_boundary_revision(db)
    db.commit()
    after = world.get("county", "/dashboard/overview").json()
    second = {v["code"]: shape(v["geometry"]) for v in after["villages"]}
    assert second[code].area == pytest.approx(first[code].area / 4, rel=0.01)
    assert second["430121001002"].equals(first["430121001002"])
