"""Void and restore (township and up, in scope), and GET /checkins (scoped, paginated)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.checkins.models import CheckIn, CheckInReview
from tests.checkins.helpers import fix


def checkin(world, user="alice", **kw):
    r = world.post(user, "/checkins", json=fix(**kw))
    assert r.status_code == 201, r.text
    return r.json()


def test_void_and_restore_are_records_beside_the_checkin(world, db):
    c = checkin(world)
    void = world.post("township1", f"/checkins/{c['id']}/void", json={"reason": "代打卡"})
    assert void.status_code == 200, void.text
    out = void.json()
    assert out["voided"] is True
    assert out["credited"] is True
    assert [(r["action"], r["reason"]) for r in out["reviews"]] == [("void", "代打卡")]
    assert out["reviews"][0]["reviewer_id"] == world.users["township1"].id

    again = world.post("county", f"/checkins/{c['id']}/void", json={"reason": "again"})
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")

    restored = world.post("county", f"/checkins/{c['id']}/restore", json={"reason": "核实"})
    assert restored.status_code == 200
    assert restored.json()["voided"] is False
    assert [r["action"] for r in restored.json()["reviews"]] == ["void", "restore"]
    twice = world.post("city", f"/checkins/{c['id']}/restore", json={"reason": "x"})
    assert (twice.status_code, twice.json()["code"]) == (409, "invalid_transition")

    listed = world.get("alice", "/checkins").json()["items"][0]
    assert listed["voided"] is False
    assert len(listed["reviews"]) == 2
    row = db.get(CheckIn, c["id"])
    assert (row.latitude, row.credited, row.flags) == (c["latitude"], True, "")
    assert db.scalar(select(func.count()).select_from(CheckInReview)) == 2
    db.commit()


def test_restoring_a_fix_never_voided_is_invalid(world):
    c = checkin(world)
    r = world.post("township1", f"/checkins/{c['id']}/restore", json={"reason": "x"})
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")


def test_reviews_are_scoped_and_for_township_and_up(world):
    c = checkin(world)  # alice: village 430121001001
    path = f"/checkins/{c['id']}/void"
    for user in ("township2", "othercounty"):
        r = world.post(user, path, json={"reason": "x"})
        assert (r.status_code, r.json()["code"]) == (404, "checkin_not_found"), user
    for user in ("alice", "bob", "auditor", "unit"):
        r = world.post(user, path, json={"reason": "x"})
        assert (r.status_code, r.json()["code"]) == (403, "role_required"), user
    assert world.post("township1", "/checkins/999999/void", json={"reason": "x"}).status_code == 404
    bad = world.post("township1", path, json={"reason": ""})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")
    assert world.post("admin", path, json={"reason": "x"}).status_code == 200


def test_a_member_lists_only_their_own_checkins(world):
    mine = checkin(world)
    checkin(world, "bob", village="430121001002")
    own = world.get("alice", "/checkins")
    assert own.status_code == 200
    assert [x["id"] for x in own.json()["items"]] == [mine["id"]]
    explicit = world.get("alice", "/checkins", params={"member_id": world.members["alice"].id})
    assert explicit.json() == own.json()
    other = world.get("alice", "/checkins", params={"member_id": world.members["bob"].id})
    assert (other.status_code, other.json()["code"]) == (404, "member_not_found")


def test_others_must_name_a_member_in_their_scope(world):
    checkin(world)
    alice = world.members["alice"].id
    r = world.get("township1", "/checkins")
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    for user in ("township1", "county", "city", "auditor", "admin", "unit"):
        r = world.get(user, "/checkins", params={"member_id": alice})
        assert r.status_code == 200, user
        assert len(r.json()["items"]) == 1
    for user in ("township2", "othercounty"):
        assert world.get(user, "/checkins", params={"member_id": alice}).status_code == 404


def test_listing_is_newest_first_filtered_by_date_and_paginated(world):
    ids = [checkin(world, ago=timedelta(days=d, minutes=5))["id"] for d in (4, 3, 2, 1, 0)]
    seen: list[int] = []
    cursor = None
    for _ in range(3):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = world.get("alice", "/checkins", params=params).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ids[::-1]
    assert cursor is None

    # Local dates (in the deployment's zone) of the fixes 3 and 1 days ago, newest first.
    items = world.get("alice", "/checkins").json()["items"]
    first, last = items[3]["local_date"], items[1]["local_date"]
    r = world.get("alice", "/checkins", params={"from": first, "to": last})
    assert [x["id"] for x in r.json()["items"]] == [ids[3], ids[2], ids[1]]
    bad = world.get("alice", "/checkins", params={"cursor": "!!"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")
