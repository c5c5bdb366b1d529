"""Who sees which villages, and a member's own assignment, through HTTP with the `world`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.org.models import Member
from tests.world import VILLAGES, centre

ALL = sorted(VILLAGES)


def codes(response):
    assert response.status_code == 200, response.text
    return [v["code"] for v in response.json()["items"]]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("township1", ["430121001001", "430121001002"]),
        ("township2", ["430121002001"]),
        ("county", ["430121001001", "430121001002", "430121002001"]),
        ("othercounty", ["430122001001"]),
        ("city", ALL),
        ("auditor", ALL),
        ("admin", ALL),
        ("unit", ["430121001001", "430121001002"]),  # where alice and bob are posted
        ("alice", ["430121001001"]),
        ("dave", ["430122001001"]),
    ],
)
def test_each_role_sees_the_villages_of_its_scope(world, user, expected):
    assert codes(world.get(user, "/villages")) == expected


def test_village_summary_fields(world):
    item = world.get("township2", "/villages").json()["items"][0]
    assert item == {
        "code": "430121002001",
        "name": "南湖村",
        "township_code": "430121002",
        "county_code": "430121",
    }


@pytest.mark.parametrize(
    ("user", "code"),
    [
        ("township1", "430121002001"),
        ("county", "430122001001"),
        ("unit", "430121002001"),
        ("alice", "430121001002"),
    ],
)
def test_a_village_outside_the_scope_is_not_found(world, user, code):
    r = world.get(user, f"/villages/{code}")
    assert r.status_code == 404
    assert r.json()["code"] == "village_not_found"
    # …exactly as a village that does not exist.
    assert world.get(user, "/villages/439999999999").json()["code"] == "village_not_found"


def test_a_village_inside_the_scope_is_a_geojson_feature(world):
    body = world.get("township1", "/villages/430121001002").json()
    assert body["properties"]["code"] == "430121001002"
    assert body["geometry"]["type"] == "MultiPolygon"


def test_scope_filter_narrows_within_the_callers_scope(world):
    assert codes(world.get("county", "/villages", params={"scope": "430121002"})) == [
        "430121002001"
    ]
    # A division outside the caller's own is not an empty page (API.md): 404 scope_not_found.
    r = world.get("county", "/villages", params={"scope": "430122"})
    assert (r.status_code, r.json()["code"]) == (404, "scope_not_found")
    assert codes(world.get("admin", "/villages", params={"scope": "430122"})) == ["430122001001"]


@pytest.mark.parametrize("scope", ["abc", "4301-21", "4301210010010"])
def test_an_invalid_scope_is_422(world, scope):
    r = world.get("admin", "/villages", params={"scope": scope})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_scope"


def test_cursor_pagination_walks_every_page(world):
    seen, pages, cursor = [], 0, None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = world.get("admin", "/villages", params=params).json()
        pages += 1
        assert len(body["items"]) <= 2
        seen += [v["code"] for v in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ALL
    assert pages == 2


def test_a_garbled_cursor_is_422(world):
    r = world.get("admin", "/villages", params={"cursor": "%%%"})
    assert r.status_code == 422


def test_member_gets_their_assignment_with_the_boundary(world):
    r = world.get("carol", "/me/assignment")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["village_code"] == "430121002001"
    assert body["village_name"] == "南湖村"
    assert body["township_code"] == "430121002"
    assert body["county_code"] == "430121"
    assert body["end_date"] is None
    assert body["boundary"]["type"] == "MultiPolygon"
    lon, lat = centre("430121002001")
    located = world.get("carol", "/villages/locate", params={"longitude": lon, "latitude": lat})
    assert located.json() == {"village_code": "430121002001", "village_name": "南湖村"}


def test_member_without_an_assignment_today_gets_404(world, db):
    unit_id = world.members["alice"].unit_id
    member = Member(
        full_name="Erin", position="team_member", unit_id=unit_id, created_at=datetime.now(UTC)
    )
    db.add(member)
    db.flush()
    world.add_user("erin", "member", "", member_id=member.id)
    db.commit()
    r = world.get("erin", "/me/assignment")
    assert r.status_code == 404
    assert r.json()["code"] == "no_assignment"
    assert codes(world.get("erin", "/villages")) == []


def test_assignment_is_for_members_only(world):
    r = world.get("county", "/me/assignment")
    assert r.status_code == 403
    assert r.json()["code"] == "role_required"
