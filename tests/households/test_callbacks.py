"""Call-backs (回访): the stored seed re-derives the draw; every member gets at least
`min_per_member` items; members without visits get households drawn; outcomes once, in scope."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.households.callbacks import draw_items
from app.households.models import CallbackDraw, Visit
from tests.households.support import csv_of, households_by_code, import_csv, row, visit
from tests.ledger.support import today


def test_the_draw_is_pure_in_its_seed():
    visits = [(i, 1 + i % 3, 100 + i) for i in range(1, 41)]
    unvisited = {9: [900, 901, 902]}
    one = draw_items("abc", visits, unvisited, 0.1, 2)
    assert one == draw_items("abc", visits, unvisited, 0.1, 2)
    assert one != draw_items("abd", visits, unvisited, 0.1, 2)
    per_member: dict[int, int] = {}
    for member, _, _ in one:
        per_member[member] = per_member.get(member, 0) + 1
    assert all(per_member[m] >= 2 for m in (1, 2, 3, 9))
    assert sum(1 for m, _, v in one if m == 9 and v is None) == 2


def test_a_stored_draw_is_re_derived_from_its_seed(world, db):
    t = today()
    rows = [row(f"D{i}", i, "alice", t - timedelta(days=5)) for i in range(4)]
    assert import_csv(world, csv_of(*rows)).status_code == 200
    hh = households_by_code(world)
    for i in range(4):
        assert world.post("alice", "/visits", json=visit(hh[f"D{i}"])).status_code == 201
    body = {"scope": "430121", "from": str(t - timedelta(days=3)), "to": str(t), "share": 0.25}
    r = world.post("county", "/callbacks/draws", json=body)
    assert r.status_code == 201, r.text
    drawn = r.json()
    stored = db.scalar(select(CallbackDraw).where(CallbackDraw.id == drawn["id"]))
    assert stored.seed == drawn["seed"]
    visits = [
        (v.id, v.member_id, v.household_id) for v in db.scalars(select(Visit).order_by(Visit.id))
    ]
    db.commit()
    again = draw_items(stored.seed, visits, {}, stored.share, stored.min_per_member)
    assert [(i["member_id"], i["household_id"], i["visit_id"]) for i in drawn["items"]] == again
    assert len(drawn["items"]) == 2  # a quarter of 4 is 1; at least 2 for the member
    pending = world.get("county", "/callbacks?scope=430121&status=pending").json()["items"]
    assert len(pending) == 2
    outside = world.post(
        "township2", f"/callbacks/{pending[0]['id']}/outcome", json={"reached": True}
    )
    assert outside.status_code == 404
    out = world.post(
        "township1",
        f"/callbacks/{pending[0]['id']}/outcome",
        json={"reached": True, "visit_confirmed": "no", "knows_member": False},
    )
    assert out.status_code == 200, out.text
    assert world.get("county", "/callbacks?status=done").json()["items"][0]["knows_member"] is False
    alice = world.members["alice"].id
    period = f"{t.year}Q{(t.month - 1) // 3 + 1}"
    codes = [
        v["code"]
        for v in world.get("county", f"/compliance/members/{alice}?period={period}").json()[
            "violations"
        ]
    ]
    assert "visit_denied" in codes
    assert "unknown_to_household" in codes
