"""What supervision records reaches compliance: a missed roll call and an inspection that
contradicts the ledger are violations of the period, and the annual evaluation counts them."""

from __future__ import annotations

from tests.checkins.helpers import fix
from tests.supervision.support import add_member, yesterday_at
from tests.supervision.test_findings import VILLAGE, closed_roll_call


def test_a_missed_roll_call_and_an_inspection_discrepancy_are_compliance_violations(world):
    frank = add_member(world, "frank", VILLAGE, position="first_secretary")
    closed_roll_call(world)  # alice answered in time, bob did not answer
    r = world.post("frank", "/checkins", json=fix(VILLAGE, at=yesterday_at(9.5)))
    assert r.status_code == 201, r.text
    visit = {
        "village_code": VILLAGE,
        "visited_at": yesterday_at(10).isoformat(),
        "found_absent": [frank.id],  # yet his phone was in the village half an hour before
        "found_present": [],
    }
    assert world.post("county", "/inspections", json=visit).status_code == 201
    day = yesterday_at(10).date()
    period = f"{day.year}Q{(day.month - 1) // 3 + 1}"

    def violations(member_id: int) -> set[str]:
        r = world.get("county", f"/compliance/members/{member_id}?period={period}")
        assert r.status_code == 200, r.text
        return {v["code"] for v in r.json()["violations"]}

    def annual(member_id: int) -> dict:
        r = world.get("county", f"/compliance/members/{member_id}/annual?year={day.year}")
        assert r.status_code == 200, r.text
        return r.json()

    alice, bob = world.members["alice"].id, world.members["bob"].id
    assert "missed_roll_call" in violations(bob)
    assert "missed_roll_call" not in violations(alice)
    assert "inspection_discrepancy" in violations(frank.id)
    assert annual(bob)["roll_calls"] == {"issued": 1, "answered": 0}
    assert annual(alice)["roll_calls"] == {"issued": 1, "answered": 1}
