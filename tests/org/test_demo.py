"""The generated demo county: deterministic, valid, loaded once, and usable through HTTP."""

from __future__ import annotations

from datetime import timedelta

import shapely
from sqlalchemy import func, select

from app.auth.models import User
from app.checkins.models import CheckIn
from app.core.time import today
from app.demo import (
    DEMO_PASSWORD,
    LUNCH_VISITOR,
    ON_LEAVE,
    ROTATING,
    demo_members,
    demo_villages,
    load_demo_if_empty,
    quarter_start,
)
from app.org.models import Assignment, Member, Village
from tests.org.helpers import zhucun


def count(db, model):
    n = db.scalar(select(func.count()).select_from(model))
    db.commit()
    return n


def bearer(client, username):
    r = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_demo_villages_are_the_same_every_time_and_tile_the_county():
    villages = demo_villages()
    assert [v.boundary.wkb for v in villages] == [v.boundary.wkb for v in demo_villages()]
    assert len(villages) == 12
    assert {v.code[:9] for v in villages} == {"430199001", "430199002", "430199003"}
    boundaries = [v.boundary for v in villages]
    assert all(b.is_valid for b in boundaries)
    # Neighbours share edges: no overlaps, no gaps inside the county.
    union = shapely.union_all(boundaries)
    assert abs(union.area - sum(b.area for b in boundaries)) < 1e-9
    assert union.geom_type == "Polygon"
    assert not union.interiors
    # Irregular: far more vertices than a Voronoi cell's handful.
    assert all(len(shapely.get_coordinates(b)) > 30 for b in boundaries)
    assert len(demo_members(villages)) == 12


def test_demo_loads_into_an_empty_database_once(db_url, db, client, policy, capsys):
    assert load_demo_if_empty(db_url) is True
    out = capsys.readouterr().out
    assert "demo-county" in out
    assert DEMO_PASSWORD in out
    assert "/docs" in out
    assert (count(db, Village), count(db, Member), count(db, Assignment)) == (12, 12, 12)
    local_today = today(policy.zone)
    start = quarter_start(local_today)
    seeded_days = [start + timedelta(days=n) for n in range((local_today - start).days + 1)]
    if seeded_days:  # none on the first day of a quarter
        checkins = db.scalars(select(CheckIn)).all()
        db.commit()
        assert f"{len(checkins)} check-ins" in out
        assert {c.local_date for c in checkins} <= set(seeded_days)
        assert all(c.village_code == c.assigned_village_code for c in checkins)
        assert {c.coord_system for c in checkins} == {"wgs84", "gcj02"}
    users = count(db, User)
    assert load_demo_if_empty(db_url) is False
    _a_believable_mix(client, local_today, start)
    assert (count(db, Village), count(db, User)) == (12, users)

    county = client.get("/api/v1/villages", headers=bearer(client, "demo-county"))
    assert len(county.json()["items"]) == 12
    township = client.get("/api/v1/villages", headers=bearer(client, "demo-township"))
    assert len(township.json()["items"]) == 4
    member = bearer(client, "demo-member")
    mine = client.get("/api/v1/me/assignment", headers=member).json()
    assert mine["village_code"] == "430199001001"
    point = shapely.geometry.shape(mine["boundary"]).representative_point()
    located = client.get(
        "/api/v1/villages/locate",
        params={"longitude": point.x, "latitude": point.y},
        headers=member,
    )
    assert located.json()["village_code"] == "430199001001"


def test_demo_command_refuses_a_database_with_villages_unless_forced(world, db_url, db):
    refused = zhucun(db_url, "demo")
    assert refused.exit_code == 1
    assert "already has villages" in refused.stderr
    assert count(db, Village) == 4
    forced = zhucun(db_url, "demo", "--force")
    assert forced.exit_code == 0, forced.output
    assert "demo-password" in forced.stdout
    assert count(db, Village) == 16
    again = zhucun(db_url, "demo", "--force")
    assert again.exit_code == 1
    assert "already loaded" in again.stderr


def _a_believable_mix(client, local_today, start):
    """Over the quarter so far: most on track, the rotating team and the lunch visitor found
    out, one member on approved leave today."""
    county = bearer(client, "demo-county")
    members = client.get("/api/v1/compliance", headers=county).json()["items"]
    assert len(members) == 12
    order = sorted(m["member_id"] for m in members)  # created in demo_members() order
    by_index = {order.index(m["member_id"]): m for m in members}
    leave = client.get(
        "/api/v1/leave-requests",
        params={"member_id": order[ON_LEAVE]},
        headers=county,
    ).json()["items"]
    assert [(x["status"], x["start_date"] <= local_today.isoformat() <= x["end_date"])
            for x in leave] == [("approved", True)]  # fmt: skip
    if (local_today - start).days < 28:
        return  # too early in the quarter for weeks of turns and a pace to fall behind
    statuses = [m["status"] for m in members]
    assert statuses.count("on_track") + statuses.count("met") >= 6
    assert {"at_risk", "unattainable"} & set(statuses)
    for index in ROTATING:
        assert by_index[index]["violations"].get("rotation", 0) >= 1
    assert by_index[LUNCH_VISITOR]["violations"].get("short_visits", 0) >= 1
