"""The stories of issue 19 through the API: households imported, visited, countersigned,
called back; what compliance and the annual evaluation make of it."""

from __future__ import annotations

from datetime import timedelta

from tests.households.support import (
    answer,
    csv_of,
    households_by_code,
    import_csv,
    row,
    token_of,
    visit,
)
from tests.ledger.support import today


def _codes(violations: list[dict]) -> list[str]:
    return [v["code"] for v in violations]


def _arrange(world):
    t = today()
    rows = [row(f"A{i}", i, "alice", t - timedelta(days=10)) for i in range(4)]
    rows += [
        row(f"B{i}", 4 + i, "bob", t - timedelta(days=100), village="430121001002")
        for i in range(2)
    ]
    r = import_csv(world, csv_of(*rows))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "households": 6,
        "created": 6,
        "updated": 0,
        "unchanged": 0,
        "pairings_started": 6,
        "pairings_ended": 0,
    }
    return households_by_code(world)


def test_a_member_visits_four_households_and_the_households_answer(world):
    hh = _arrange(world)
    offers = {}
    visits = {}
    for code in ("A0", "A1", "A2"):
        r = world.post("alice", "/visits", json=visit(hh[code]))
        assert r.status_code == 201, r.text
        v = r.json()
        assert v["at_household"] is True
        assert v["credited"] is True
        assert v["confirmation"] == "pending"
        assert v["countersign"] is not None
        assert len(v["countersign"]["code"]) == 6
        offers[code], visits[code] = v["countersign"], v
    # Offline: sent two hours after the fix, no countersign; call-backs cover it.
    r = world.post("alice", "/visits", json=visit(hh["A3"], ago=timedelta(hours=2)))
    assert r.status_code == 201, r.text
    visits["A3"] = r.json()
    assert visits["A3"]["countersign"] is None
    assert visits["A3"]["confirmation"] == "unconfirmed"

    # The visit is an ordinary check-in of the member too.
    r = world.get("alice", "/checkins")
    ids = {c["id"] for c in r.json()["items"]}
    assert {v["checkin_id"] for v in visits.values()} <= ids

    # Two yes (by the link, and by the code typed on /v), one no.
    assert answer(world, token_of(offers["A0"])).status_code == 200
    r = world.client.post("/api/v1/public/countersign", json={"code": offers["A1"]["code"]})
    assert r.status_code == 200, r.text
    assert r.json()["token"] == token_of(offers["A1"])
    view = world.client.get(f"/api/v1/public/countersign/{r.json()['token']}")
    assert view.status_code == 200
    assert view.json()["member_name"] == "Alice"
    receipt = answer(world, r.json()["token"])
    assert receipt.status_code == 200
    assert len(receipt.json()["receipt"]) == 8
    assert answer(world, token_of(offers["A2"]), confirmed=False).status_code == 200

    # The offline visit confirmed by a call-back.
    t = today()
    r = world.post(
        "county",
        "/callbacks/draws",
        json={"scope": "430121001", "from": str(t - timedelta(days=1)), "to": str(t), "share": 1.0},
    )
    assert r.status_code == 201, r.text
    draw = r.json()
    by_visit = {i["visit_id"]: i for i in draw["items"]}
    assert set(by_visit) >= {v["id"] for v in visits.values()}
    assert by_visit[visits["A3"]["id"]]["phone"] == "13812345678"  # in full: the caller dials it
    # bob has no visits in the range: his households are drawn instead.
    assert any(
        i["visit_id"] is None and i["member_id"] == world.members["bob"].id for i in draw["items"]
    )
    cb = by_visit[visits["A3"]["id"]]["callback_id"]
    out = world.post(
        "county",
        f"/callbacks/{cb}/outcome",
        json={"reached": True, "visit_confirmed": "yes", "knows_member": True, "satisfaction": 4},
    )
    assert out.status_code == 200, out.text
    again = world.post("county", f"/callbacks/{cb}/outcome", json={"reached": True})
    assert again.status_code == 409
    assert again.json()["code"] == "already_answered"

    detail = world.get("county", f"/households/{hh['A3']['id']}").json()
    assert detail["visits"][0]["confirmation"] == "confirmed"
    assert detail["callbacks"][0]["status"] == "done"
    assert detail["overdue"] is False

    alice = world.members["alice"].id
    period = f"{t.year}Q{(t.month - 1) // 3 + 1}"
    r = world.get("county", f"/compliance/members/{alice}?period={period}")
    codes = _codes(r.json()["violations"])
    assert "visit_denied" in codes
    assert "households_overdue" not in codes
    assert "unknown_to_household" not in codes

    annual = world.get("county", f"/compliance/members/{alice}/annual?year={t.year}").json()
    assert annual["households"]["paired"] == 4
    assert annual["households"]["visited_on_time_rate"] == 1.0
    assert annual["rates"]["visits"] == 1.0
    assert annual["households"]["answers"] == 4
    assert annual["rates"]["known"] == 1.0
    heard = {v["source"]: v for v in annual["voice"]}
    assert heard["countersigns"]["answers"] == 3
    assert heard["callbacks"]["answers"] == 1
    assert annual["grade_hint"] in ("ordinary", "referral")  # no check-in quota met here


def test_a_member_who_never_visits_is_overdue_and_referred(world):
    _arrange(world)
    t = today()
    bob = world.members["bob"].id
    period = f"{t.year}Q{(t.month - 1) // 3 + 1}"
    r = world.get("county", f"/compliance/members/{bob}?period={period}")
    found = [v for v in r.json()["violations"] if v["code"] == "households_overdue"]
    assert found
    assert "B0" in found[0]["detail"]
    assert "B1" in found[0]["detail"]
    annual = world.get("county", f"/compliance/members/{bob}/annual?year={t.year}").json()
    assert annual["households"]["paired"] == 2
    assert annual["households"]["visited_on_time_rate"] == 0.0
    assert annual["rates"]["visits"] == 0.0
    assert annual["grade_hint"] == "referral"
    export = world.get(
        "county", f"/reports/compliance?scope=430121&period={period}&format=json"
    ).json()["items"]
    (row,) = [r for r in export if r["member_id"] == bob]
    assert row["households_overdue"] == 1
    assert row["visits_rate"] == 0.0
    assert row["satisfaction_rate"] is None  # nobody answered
    listed = world.get("county", f"/households?member_id={bob}&overdue=true").json()["items"]
    assert {h["household_code"] for h in listed} == {"B0", "B1"}
    assert world.get("county", "/households?overdue=false").json()["items"]
    assert {h["household_code"] for h in world.get("bob", "/me/households").json()["items"]} == {
        "B0",
        "B1",
    }


def test_a_member_confirming_their_own_visit_is_marked_same_confirmer(world):
    hh = _arrange(world)
    phone = {"User-Agent": "alice-phone"}
    r = world.client.post(
        "/api/v1/visits", json=visit(hh["A0"]), headers={**world.headers("alice"), **phone}
    )
    assert r.status_code == 201, r.text
    v = r.json()
    assert answer(world, token_of(v["countersign"]), user_agent="alice-phone").status_code == 200
    detail = world.get("county", f"/households/{hh['A0']['id']}").json()
    assert detail["visits"][0]["flags"] == ["same_confirmer"]
    # A different browser confirming another visit is not suspect.
    r = world.post("alice", "/visits", json=visit(hh["A1"]))
    assert (
        answer(world, token_of(r.json()["countersign"]), user_agent="household").status_code == 200
    )
    detail = world.get("county", f"/households/{hh['A1']['id']}").json()
    assert detail["visits"][0]["flags"] == []


def test_one_browser_confirming_many_households_is_marked(world):
    t = today()
    rows = [row(f"C{i}", i, "alice", t - timedelta(days=5)) for i in range(5)]
    assert import_csv(world, csv_of(*rows)).status_code == 200
    hh = households_by_code(world)
    for i in range(5):
        r = world.post("alice", "/visits", json=visit(hh[f"C{i}"]))
        assert (
            answer(world, token_of(r.json()["countersign"]), user_agent="one-phone").status_code
            == 200
        )
    flags = [
        world.get("county", f"/households/{hh[f'C{i}']['id']}").json()["visits"][0]["flags"]
        for i in range(5)
    ]
    assert flags[4] == ["same_confirmer"]  # the fourth household and beyond mark them all
    assert all(f == ["same_confirmer"] for f in flags)


def test_a_pairing_change_mid_quarter_is_judged_per_member_over_their_own_days(world):
    alice, bob = world.members["alice"].id, world.members["bob"].id
    t = today()
    start = t - timedelta(days=60)
    r = import_csv(world, csv_of(row("P1", 0, "alice", start, risk="key")))
    assert r.status_code == 200, r.text
    hh = households_by_code(world)["P1"]
    # Handed to carol's colleague bob 20 days ago; alice never visited in her 40 days.
    moved = t - timedelta(days=20)
    r = world.post(
        "township1",
        f"/households/{hh['id']}/pairing",
        json={"member_id": bob, "from": str(moved)},
    )
    assert r.status_code == 200, r.text
    assert r.json()["member_id"] == bob
    assert [(p["member_id"], p["to"]) for p in r.json()["pairings"]] == [
        (alice, str(moved - timedelta(days=1))),
        (bob, None),
    ]
    from sqlalchemy.orm import Session

    from app.core.policy import Policy
    from app.households.findings import findings_for_members

    with Session(world.db.get_bind()) as read:  # its own, closed before the API writes
        found = findings_for_members(read, Policy(), [alice, bob], start, t)
    assert [f.code for f in found.get(alice, [])] == ["households_overdue"]
    assert "P1 (9 day(s) overdue)" in found[alice][0].detail
    assert bob not in found  # 20 days into a 30-day interval: not yet due
    # Bob's visit counts for bob; alice cannot visit it any more (404).
    r = world.post("alice", "/visits", json=visit(hh))
    assert r.status_code == 404
    assert r.json()["code"] == "household_not_found"
    assert world.post("bob", "/visits", json=visit(hh)).status_code == 201


def test_phones_are_masked_but_for_the_paired_member_and_the_township(world):
    hh = _arrange(world)
    a0 = hh["A0"]["id"]
    assert hh["A0"]["phone"] == "13812345678"  # county above the village
    assert world.get("alice", f"/households/{a0}").json()["phone"] == "13812345678"
    assert world.get("township1", f"/households/{a0}").json()["phone"] == "13812345678"
    assert world.get("auditor", f"/households/{a0}").json()["phone"] == "138****5678"
    assert world.get("unit", f"/households/{a0}").json()["phone"] == "138****5678"
    assert world.get("bob", f"/households/{a0}").status_code == 404
    assert world.get("township2", f"/households/{a0}").status_code == 404
    report = world.get("county", "/reports/households?scope=430121&format=json").json()
    assert {r["phone"] for r in report["items"]} == {"138****5678"}
    csv_text = world.get("county", "/reports/households?scope=430121").text
    assert "户编号" in csv_text
    assert "138****5678" in csv_text
    assert "13812345678" not in csv_text


def test_the_plan_is_kept_in_versions_and_overdue_measures_show(world):
    hh = _arrange(world)
    a0 = hh["A0"]["id"]
    t = today()
    plan = {
        "measures": [
            {
                "kind": "industry",
                "description": "油茶 5 亩",
                "due_date": str(t - timedelta(days=1)),
                "status": "in_progress",
            },
            {"kind": "health", "description": "慢病随访", "due_date": None, "status": "planned"},
        ]
    }
    r = world.client.put(f"/api/v1/households/{a0}/plan", json=plan, headers=world.headers("alice"))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1
    assert r.json()["overdue_measures"] == 1
    plan["measures"][0]["status"] = "done"
    r = world.client.put(
        f"/api/v1/households/{a0}/plan", json=plan, headers=world.headers("township1")
    )
    assert r.json()["version"] == 2
    assert r.json()["overdue_measures"] == 0
    r = world.client.put(
        f"/api/v1/households/{a0}/plan", json=plan, headers=world.headers("auditor")
    )
    assert r.status_code == 403
    history = world.get("county", f"/households/{a0}/plan/history").json()["items"]
    assert [p["version"] for p in history] == [2, 1]
    assert world.get("county", f"/households/{a0}").json()["plan"]["version"] == 2
