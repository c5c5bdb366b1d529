"""两头跑 (issue 19 item 7): a dispatching unit's office, the `at_home_unit` flag on a working
day's fix there, the roll-call answer from there rejected, and `recalled_to_unit` in
compliance — through the real API, in the fourth quarter of 2025 (official calendar)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from app.core.policy import Policy
from tests.checkins.helpers import fix as fix_now
from tests.compliance.support import STORY_POLICY, add_member, at_local, set_today
from tests.supervision.support import age_roll_call

EAST = "430121001001"  # alice's village; alice and bob are of 市农业农村局
UNIT = "市农业农村局"
# The bureau's office in the city, west of the county's villages (WGS84).
OFFICE_LON, OFFICE_LAT = 112.9500, 28.3100
WORKDAYS = [date(2025, 11, 10), date(2025, 11, 11), date(2025, 11, 12)]  # Monday-Wednesday
SATURDAY = date(2025, 11, 15)


@pytest.fixture
def policy() -> Policy:
    return STORY_POLICY


@pytest.fixture
def zhao(world) -> str:
    """A member of the bureau posted to the east village since September 2025."""
    add_member(world, "zhao", EAST, date(2025, 9, 1))
    return "zhao"


def unit_flags(checkin: dict[str, Any]) -> list[str]:
    """The flags of a story fix but `late_sync` (a 2025 fix uploaded today is late)."""
    return [f for f in checkin["flags"] if f != "late_sync"]


def set_office(world, user="county", name=UNIT, **fields: Any):
    body = {"latitude": OFFICE_LAT, "longitude": OFFICE_LON, "radius_m": 200} | fields
    return world.client.put(f"/api/v1/units/{name}/office", json=body, headers=world.headers(user))


def at_office(day: date, hour: float = 10.0, dlat: float = 0.0) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "captured_at": at_local(day, hour).isoformat(),
        "latitude": OFFICE_LAT + dlat,
        "longitude": OFFICE_LON,
        "accuracy_m": 12.0,
    }


def upload(world, user, bodies):
    r = world.post(user, "/checkins/batch", json={"items": bodies})
    assert r.status_code == 200, r.text
    return [x["checkin"] for x in r.json()["results"]]


def violations(world, user="county", member="zhao", period="2025Q4"):
    path = f"/compliance/members/{world.members[member].id}"
    r = world.get(user, path, params={"period": period})
    assert r.status_code == 200, r.text
    return [v for v in r.json()["violations"] if v["code"] == "recalled_to_unit"]


def test_a_county_sets_the_office_and_reads_it(world):
    r = set_office(world, coord_system="wgs84")
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["name"], out["radius_m"]) == (UNIT, 200)
    assert (out["latitude"], out["longitude"]) == (OFFICE_LAT, OFFICE_LON)
    assert world.get("unit", f"/units/{UNIT}/office").json()["set_by"] == world.users["county"].id
    # GCJ-02 from a map app is stored as WGS84 (a few hundred metres apart in Hunan).
    moved = set_office(world, coord_system="gcj02").json()
    assert abs(moved["longitude"] - OFFICE_LON) > 1e-3
    audit = world.get("admin", "/audit/actions", params={"action": "unit.office"})
    if audit.status_code == 200:
        assert len([a for a in audit.json()["items"] if a["action"] == "unit.office"]) == 2


@pytest.mark.parametrize(
    ("user", "name", "status", "code"),
    [
        ("township1", UNIT, 403, "role_required"),
        ("alice", UNIT, 403, "role_required"),
        ("unit", UNIT, 403, "role_required"),
        ("othercounty", UNIT, 404, "unit_not_found"),  # none of its members posted there
        ("county", "不存在的单位", 404, "unit_not_found"),
    ],
)
def test_who_may_set_an_office(world, user, name, status, code):
    r = set_office(world, user=user, name=name)
    assert (r.status_code, r.json()["code"]) == (status, code)


@pytest.mark.parametrize(
    "fields",
    [{"radius_m": 0}, {"radius_m": 9000}, {"latitude": 91}, {"latitude": "28.3"}, {"x": 1}],
)
def test_a_bad_office_is_refused(world, fields):
    r = set_office(world, **fields)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_no_office_set_reads_as_not_found(world):
    r = world.get("county", f"/units/{UNIT}/office")
    assert (r.status_code, r.json()["code"]) == (404, "unit_not_found")


def test_three_working_days_at_the_office_make_recalled_to_unit(world, app, zhao):
    assert set_office(world).status_code == 200
    set_today(app, date(2025, 12, 31))
    stored = upload(world, zhao, [at_office(WORKDAYS[0]), at_office(WORKDAYS[1])])
    assert [unit_flags(c) for c in stored] == [["at_home_unit"], ["at_home_unit"]]
    reason = next(r["reason"] for r in stored[0]["flag_reasons"] if r["flag"] == "at_home_unit")
    assert "派驻单位" in reason
    assert "200" in reason
    assert stored[0]["credited"] is False  # outside the village besides
    # A Saturday at the office is no working day: no flag, and it does not count.
    weekend = upload(world, zhao, [at_office(SATURDAY)])
    assert unit_flags(weekend[0]) == []
    assert violations(world) == []  # two working days: not yet
    # Outside the radius (300 m north) is not the office.
    assert unit_flags(upload(world, zhao, [at_office(WORKDAYS[2], dlat=0.0027)])[0]) == []
    assert violations(world) == []
    upload(world, zhao, [at_office(WORKDAYS[2], hour=15.0)])
    found = violations(world)
    assert len(found) == 1
    assert (found[0]["from"], found[0]["to"]) == ("2025-11-10", "2025-11-12")
    assert "3" in found[0]["detail"]
    # In the scope list too, and for the member's own unit user.
    r = world.get("county", "/compliance", params={"period": "2025Q4", "scope": "430121"})
    item = next(i for i in r.json()["items"] if i["member_id"] == world.members[zhao].id)
    assert item["violations"]["recalled_to_unit"] == 1
    assert len(violations(world, user="unit")) == 1
    # Alice, of the same unit, never went there.
    assert violations(world, member="alice") == []


def test_the_threshold_is_the_policys(world, app, monkeypatch, zhao):
    set_office(world)
    set_today(app, date(2025, 12, 31))
    upload(world, zhao, [at_office(WORKDAYS[0])])
    compliance = STORY_POLICY.compliance.model_copy(update={"unit_days": 1})
    monkeypatch.setattr(
        app.state, "policy", app.state.policy.model_copy(update={"compliance": compliance})
    )
    assert len(violations(world)) == 1


def test_a_voided_fix_at_the_office_does_not_count(world, app, zhao):
    set_office(world)
    set_today(app, date(2025, 12, 31))
    stored = upload(world, zhao, [at_office(d) for d in WORKDAYS])
    assert len(violations(world)) == 1
    r = world.post("township1", f"/checkins/{stored[0]['id']}/void", json={"reason": "出差公干"})
    assert r.status_code == 200, r.text
    assert violations(world) == []


def test_a_member_without_an_office_set_is_never_flagged(world, zhao):
    assert unit_flags(upload(world, zhao, [at_office(WORKDAYS[0])])[0]) == []


def test_a_fix_of_a_day_without_assignment_is_not_judged_at_the_office(world):
    set_office(world)
    # Alice was posted in 2026: on a 2025 day she owed the village nothing.
    assert unit_flags(upload(world, "alice", [at_office(WORKDAYS[0])])[0]) == ["no_assignment"]


def test_a_roll_call_answer_from_the_office_is_rejected(world, monkeypatch):
    # A roll call is answered now: whatever today is, judge it a working day.
    monkeypatch.setattr("app.checkins.judging.is_workday", lambda day, calendar: True)
    set_office(world)
    call = world.post(
        "county", "/roll-calls", json={"scope": "430121", "window_minutes": 60, "message": "点名"}
    ).json()
    body = fix_now(EAST, ago=timedelta(seconds=0), roll_call_id=str(call["id"]))
    body |= {"latitude": OFFICE_LAT, "longitude": OFFICE_LON}
    r = world.post("alice", "/checkins", json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["flags"], r.json()["roll_call_status"]) == (["at_home_unit"], "at_home_unit")
    bob = fix_now("430121001002", ago=timedelta(seconds=0), roll_call_id=str(call["id"]))
    assert world.post("bob", "/checkins", json=bob).json()["roll_call_status"] == "answered"
    page = world.get("county", f"/roll-calls/{call['id']}").json()
    assert {e["full_name"]: e["reason"] for e in page["rejected"]} == {"Alice": "at_home_unit"}
    assert [e["full_name"] for e in page["responded"]] == ["Bob"]
    age_roll_call(world.db, call["id"], timedelta(hours=2))
