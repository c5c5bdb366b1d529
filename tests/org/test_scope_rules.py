"""Who sees what (app/org/scope.py, docs/rules.md "Who sees what"), table-driven over the existing
routes (issue 11, defect 4): scope parameters outside the caller's, /villages/locate, and a
member who moved from township 1 to township 2, seen day by day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.org.models import Assignment
from tests.ledger.support import add_fix, at_local, today
from tests.world import centre

MOVED_ON = 10  # days ago: alice moves from 430121001001 (township1) to 430121002001 (township2)


@pytest.fixture
def moved(world, db, policy):
    """alice, moved; a fix and an emergency leave on each side of the move."""
    alice = world.members["alice"]
    first = db.scalar(select(Assignment).where(Assignment.member_id == alice.id))
    move = today() - timedelta(days=MOVED_ON)
    first.end_date = move - timedelta(days=1)
    db.add(Assignment(member_id=alice.id, village_code="430121002001", start_date=move))
    before = add_fix(db, policy, alice.id, at_local(move - timedelta(days=10), 9))
    after = add_fix(
        db, policy, alice.id, at_local(move + timedelta(days=5), 9), village="430121002001"
    )
    db.commit()
    leaves = {}
    for side, start in (("before", move - timedelta(days=5)), ("after", move + timedelta(days=7))):
        r = world.post(
            "alice",
            "/leave-requests",
            json={
                "type": "sick",
                "start_date": str(start),
                "end_date": str(start),
                "emergency": True,
            },
        )
        assert r.status_code == 201, r.text
        leaves[side] = r.json()["id"]
    return {"member": alice.id, "fixes": {"before": before.id, "after": after.id}, **leaves}


# caller -> which side of the move they see
SIDES = {
    "township1": {"before"},
    "township2": {"after"},
    "county": {"before", "after"},
    "city": {"before", "after"},
    "auditor": {"before", "after"},
    "admin": {"before", "after"},
    "unit": {"before", "after"},
    "alice": {"before", "after"},
    "othercounty": None,  # does not see alice at all
    "bob": None,
}


def test_a_moved_member_is_seen_day_by_day(world, moved):
    wrong = {}
    member = moved["member"]
    move = today() - timedelta(days=MOVED_ON)
    for caller, sides in SIDES.items():
        r = world.get(caller, "/checkins", params={"member_id": member})
        if sides is None:
            if r.status_code != 404:
                wrong[(caller, "checkins")] = r.status_code
            continue
        got = {i["id"] for i in r.json()["items"]}
        if got != {moved["fixes"][s] for s in sides}:
            wrong[(caller, "checkins")] = got

        r = world.get(
            caller,
            f"/members/{member}/presence",
            params={"from": str(move - timedelta(days=15)), "to": str(move + timedelta(days=8))},
        )
        days = {d["date"] for d in r.json()["days"]}
        seen = set()
        if str(move - timedelta(days=1)) in days:
            seen.add("before")
        if str(move) in days:
            seen.add("after")
        if seen != sides:
            wrong[(caller, "presence")] = seen

        r = world.get(caller, "/leave-requests", params={"member_id": member})
        got = {i["id"] for i in r.json()["items"]}
        if got != {moved[s] for s in sides}:
            wrong[(caller, "leave")] = got
        for side in ("before", "after"):
            status = world.get(caller, f"/leave-requests/{moved[side]}").status_code
            if status != (200 if side in sides else 404):
                wrong[(caller, "leave", side)] = status
    assert not wrong


def test_each_township_approves_the_leave_of_its_own_days(world, moved):
    assert world.post("township2", f"/leave-requests/{moved['before']}/approve").status_code == 404
    assert world.post("township1", f"/leave-requests/{moved['before']}/approve").status_code == 200
    assert world.post("township1", f"/leave-requests/{moved['after']}/approve").status_code == 404
    assert world.post("township2", f"/leave-requests/{moved['after']}/approve").status_code == 200


# (caller, path, params, status); a 404 is always `scope_not_found`.
SCOPE_PARAMS = [
    ("county", "/villages", {"scope": "430122"}, 404),
    ("county", "/villages", {"scope": "430121002"}, 200),
    ("township1", "/villages", {"scope": "4301"}, 200),  # wider: narrowed to their own
    ("township1", "/villages", {"scope": "430121002"}, 404),
    ("city", "/villages", {"scope": "430122"}, 200),
    ("city", "/villages", {"scope": "4302"}, 404),
    ("auditor", "/villages", {"scope": "44"}, 404),
    ("admin", "/villages", {"scope": "9999"}, 200),
    ("alice", "/villages", {"scope": "430121001"}, 200),
    ("alice", "/villages", {"scope": "430122"}, 404),
    ("unit", "/villages", {"scope": "430121"}, 200),
    ("unit", "/villages", {"scope": "430122"}, 404),
    ("township1", "/presence/on-post", {"scope": "430121002"}, 404),
    ("othercounty", "/presence/on-post", {"scope": "430121"}, 404),
    ("county", "/presence/on-post", {"scope": "430121001"}, 200),
    ("city", "/presence/on-post", {"scope": "430122"}, 200),
]


def test_a_scope_outside_the_callers_is_scope_not_found(world):
    wrong = {}
    for caller, path, params, status in SCOPE_PARAMS:
        r = world.get(caller, path, params=params)
        if r.status_code != status or (status == 404 and r.json()["code"] != "scope_not_found"):
            wrong[(caller, path, params["scope"])] = (r.status_code, r.text[:120])
    assert not wrong


# (caller, village whose centre is asked about, whether the caller is told its code)
LOCATE = [
    ("county", "430121002001", True),
    ("county", "430122001001", False),
    ("othercounty", "430122001001", True),
    ("othercounty", "430121001001", False),
    ("township1", "430121001002", True),
    ("township1", "430121002001", False),
    ("city", "430122001001", True),
    ("admin", "430122001001", True),
    ("alice", "430121001001", True),
    ("alice", "430121001002", False),
    ("unit", "430121001002", True),  # bob's village, of the same unit
    ("unit", "430121002001", False),
]


def test_locate_names_only_villages_in_the_callers_scope(world):
    wrong = {}
    for caller, code, told in LOCATE:
        lon, lat = centre(code)
        r = world.get(caller, "/villages/locate", params={"longitude": lon, "latitude": lat})
        expected = code if told else None
        if r.status_code != 200 or r.json()["village_code"] != expected:
            wrong[(caller, code)] = r.json()
        if not told and r.json()["village_name"] is not None:
            wrong[(caller, code, "name")] = r.json()
    assert not wrong
