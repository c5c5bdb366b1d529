"""Unannounced inspections (突击暗访) through the real API: a first secretary found absent at
10:00 while his phone uploads a fix from the village at 09:30, before or after the visit is
recorded; refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.checkins.helpers import fix
from tests.ledger.support import today
from tests.supervision.support import add_member, yesterday_at

VILLAGE = "430121001001"


@pytest.fixture
def secretary(world):
    return add_member(world, "frank", VILLAGE, position="first_secretary")


def visit(world, user="county", *, present=(), absent=(), at=None, village=VILLAGE, note="暗访"):
    body = {
        "village_code": village,
        "visited_at": (at or yesterday_at(10)).isoformat(),
        "found_present": list(present),
        "found_absent": list(absent),
        "note": note,
    }
    return world.post(user, "/inspections", json=body)


def upload(world, user, hour, **extra):
    r = world.post(
        user,
        "/checkins",
        json=fix(VILLAGE, at=yesterday_at(hour), **extra),
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_a_fix_uploaded_before_the_visit_is_recorded_is_a_discrepancy(world, secretary):
    checkin = upload(world, "frank", 9.5)
    r = visit(world, present=[world.members["alice"].id], absent=[secretary.id])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["recorded_by"] == world.users["county"].id
    assert body["found_absent"] == [secretary.id]
    [d] = body["discrepancies"]
    assert (d["member_id"], d["full_name"], d["checkin_ids"]) == (
        secretary.id,
        "Frank",
        [checkin["id"]],
    )
    # Alice was found present with no fix that day: noted.
    assert [p["member_id"] for p in body["present_without_fix"]] == [world.members["alice"].id]


def test_a_fix_uploaded_after_the_visit_is_recorded_still_shows(world, secretary):
    upload(world, "frank", 7.0)  # three hours before the visit: outside the 2 h window
    r = visit(world, absent=[secretary.id])
    assert r.status_code == 201, r.text
    inspection = r.json()
    assert inspection["discrepancies"] == []
    checkin = upload(world, "frank", 9.5)  # the phone was offline; it uploads now
    r = world.get("county", f"/inspections/{inspection['id']}")
    assert r.status_code == 200
    [d] = r.json()["discrepancies"]
    assert d["checkin_ids"] == [checkin["id"]]


def test_uncounted_fixes_are_no_discrepancy(world, secretary):
    upload(world, "frank", 9.5, is_mock=True)  # a mock fix is not credited
    upload(world, "frank", 10.0, dlat=0.1)  # far outside the village
    inspection = visit(world, absent=[secretary.id]).json()
    assert inspection["discrepancies"] == []
    # A reviewer's void of a fix near the visit removes the discrepancy too.
    good = upload(world, "frank", 10.5)
    assert [
        d["checkin_ids"]
        for d in world.get("county", f"/inspections/{inspection['id']}").json()["discrepancies"]
    ] == [[good["id"]]]
    assert (
        world.post("county", f"/checkins/{good['id']}/void", json={"reason": "代签"}).status_code
        == 200
    )
    assert world.get("county", f"/inspections/{inspection['id']}").json()["discrepancies"] == []


def test_a_visit_in_the_future_is_refused(world, secretary):
    r = visit(world, absent=[secretary.id], at=datetime.now(UTC) + timedelta(hours=1))
    assert (r.status_code, r.json()["code"]) == (422, "in_future")


def test_members_not_assigned_to_the_village_are_refused(world, secretary):
    r = visit(world, absent=[world.members["bob"].id])  # bob is posted to 430121001002
    assert (r.status_code, r.json()["code"]) == (422, "member_not_assigned")
    assert str(world.members["bob"].id) in r.json()["detail"]
    r = visit(world, present=[999999])
    assert (r.status_code, r.json()["code"]) == (422, "member_not_assigned")
    # A member not yet assigned on the day of the visit.
    r = visit(world, absent=[secretary.id], at=yesterday_at(10) - timedelta(days=300))
    assert (r.status_code, r.json()["code"]) == (422, "member_not_assigned")
    r = visit(world, present=[secretary.id], absent=[secretary.id])
    assert (r.status_code, r.json()["code"]) == (422, "member_listed_twice")


def test_who_may_inspect_where(world, secretary):
    r = visit(world, "township2", absent=[secretary.id])
    assert (r.status_code, r.json()["code"]) == (404, "village_not_found")
    r = visit(world, village="430121001099")
    assert (r.status_code, r.json()["code"]) == (404, "village_not_found")
    assert visit(world, "frank", absent=[secretary.id]).status_code == 403
    assert visit(world, "unit", absent=[secretary.id]).status_code == 403
    for user in ("township1", "auditor", "city"):
        assert visit(world, user, absent=[secretary.id]).status_code == 201
    r = visit(world, village="430121001", absent=[])
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_inspection_reads_are_scoped(world, secretary):
    inspection = visit(world, absent=[secretary.id]).json()
    for user in ("township2", "othercounty"):
        r = world.get(user, f"/inspections/{inspection['id']}")
        assert (r.status_code, r.json()["code"]) == (404, "inspection_not_found")
    assert world.get("township1", f"/inspections/{inspection['id']}").status_code == 200
    assert world.get("frank", f"/inspections/{inspection['id']}").status_code == 403
    day = str(today() - timedelta(days=1))
    listed = world.get("county", "/inspections", params={"from": day, "to": day}).json()
    assert [i["id"] for i in listed["items"]] == [inspection["id"]]
    assert (
        world.get("county", "/inspections", params={"to": str(today() - timedelta(days=2))}).json()[
            "items"
        ]
        == []
    )
    assert world.get("township2", "/inspections").json()["items"] == []
    r = world.get("township1", "/inspections", params={"scope": "430121"})
    assert (r.status_code, r.json()["code"]) == (404, "scope_not_found")
