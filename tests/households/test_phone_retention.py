"""A household that leaves the programme (its pairing ended with no successor) keeps its phone
`policy.privacy.household_phone_days` after the end, then `zhucun privacy purge` removes it;
a paired household's phone stays (API.md, "Privacy": household phones are purged after the
pairing ends)."""

from __future__ import annotations

from datetime import timedelta

from app.households.retention import purge_phones
from tests.households.support import csv_of, households_by_code, import_csv, row
from tests.ledger.support import today


def _arrange(world):
    t = today()
    rows = [row(f"A{i}", i, "alice", t - timedelta(days=30)) for i in range(2)]
    assert import_csv(world, csv_of(*rows)).status_code == 200
    return households_by_code(world)


def test_an_ended_pairing_purges_the_phone_after_the_policys_days(world, db, policy):
    hh = _arrange(world)
    a0, a1 = hh["A0"]["id"], hh["A1"]["id"]
    t = today()
    r = world.post(
        "township1", f"/households/{a0}/pairing", json={"member_id": None, "from": str(t)}
    )
    assert r.status_code == 200, r.text
    assert r.json()["member_id"] is None
    assert r.json()["pairings"][-1]["to"] == str(t - timedelta(days=1))
    # Ending an ended pairing, or before its start, is refused.
    again = world.post(
        "township1", f"/households/{a0}/pairing", json={"member_id": None, "from": str(t)}
    )
    assert again.status_code == 422
    early = world.post(
        "township1",
        f"/households/{a1}/pairing",
        json={"member_id": None, "from": str(t - timedelta(days=40))},
    )
    assert early.status_code == 422

    days = policy.privacy.household_phone_days
    assert purge_phones(db, policy, t + timedelta(days=days - 1)) == 0  # not yet
    assert purge_phones(db, policy, t + timedelta(days=days)) == 1
    db.commit()
    assert world.get("county", f"/households/{a0}").json()["phone"] is None
    assert world.get("county", f"/households/{a1}").json()["phone"] == hh["A1"]["phone"]
    assert purge_phones(db, policy, t + timedelta(days=days)) == 0  # done once
    db.commit()
    actions = world.get("admin", "/audit/actions", params={"action": "household.pair"}).json()
    assert any(a["payload"]["member_id"] is None for a in actions["items"])
