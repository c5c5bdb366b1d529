"""Bad input everywhere: a household point in another village, a bad CSV line, GB18030 and
mixed encodings, a visit 5 km away, a visit to a household not paired with the member."""

from __future__ import annotations

from datetime import timedelta

from tests.households.support import (
    HEADER,
    csv_of,
    households_by_code,
    import_csv,
    point,
    row,
    visit,
)
from tests.ledger.support import today
from tests.world import centre


def test_a_point_in_another_village_and_a_bad_line_refuse_the_whole_file(world):
    t = today()
    other = centre("430121001002")  # the next village's centre, ~2 km away
    data = csv_of(
        row("G1", 0, "alice", t),
        row("G2", 1, "alice", t, at=other),
        row("G3", 2, "alice", t).replace("key", "urgent"),
        row("G4", 3, "nobody", t),
        "G5,430121001001,户主,地址,not-a-number,113.01,wgs84,脱贫户,重点,,,",
    )
    r = import_csv(world, data)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "import_refused"
    lines = {p["line"]: p["reason"] for p in problem["problems"]}
    assert set(lines) == {3, 4, 5, 6}
    assert "outside village 430121001001" in lines[3]
    assert "430121001002" in lines[3]
    assert "urgent" in lines[4]
    assert "nobody" in lines[5]
    assert "latitude" in lines[6]
    assert households_by_code(world) == {}  # all or nothing


def test_reimport_is_idempotent_and_a_changed_member_starts_a_new_pairing(world):
    t = today()
    first = csv_of(row("R1", 0, "alice", t - timedelta(days=40)), row("R2", 1, None, None))
    assert import_csv(world, first).status_code == 200
    again = import_csv(world, first)
    assert again.json()["unchanged"] == 2
    assert again.json()["pairings_started"] == 0
    moved = csv_of(row("R1", 0, "bob", t - timedelta(days=5)), row("R2", 1, None, None))
    r = import_csv(world, moved)
    assert r.json()["pairings_started"] == 1
    assert r.json()["pairings_ended"] == 1
    h = households_by_code(world)["R1"]
    assert h["member_id"] == world.members["bob"].id
    assert [p["to"] for p in h["pairings"]] == [str(t - timedelta(days=6)), None]
    assert households_by_code(world)["R2"]["member_id"] is None


def test_gb18030_and_gcj02_are_read_and_other_encodings_refused(world):
    t = today()
    lon, lat = point(0)
    from app.geo.coords import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(lon, lat)
    line = row("E1", 0, "alice", t).replace(
        f"{lat:.6f},{lon:.6f},wgs84", f"{glat:.6f},{glon:.6f},gcj02"
    )
    r = import_csv(world, (HEADER + "\n" + line + "\n").encode("gb18030"))
    assert r.status_code == 200, r.text
    h = households_by_code(world)["E1"]
    assert abs(h["location"]["coordinates"][0] - lon) < 1e-5
    assert h["head_name"] == "户主0"
    mixed = (HEADER + "\n").encode() + row("E2", 1, "alice", t).encode("gb18030") + b"\n"
    mixed += row("E3", 2, "alice", t).encode("utf-8") + b"\n"
    r = import_csv(world, mixed)
    assert r.status_code == 422
    assert r.json()["code"] == "import_refused"


def test_a_visit_5_km_away_is_stored_but_not_at_the_household(world):
    assert import_csv(world, csv_of(row("F1", 0, "alice", today()))).status_code == 200
    household = households_by_code(world)["F1"]
    r = world.post("alice", "/visits", json=visit(household, dlat=0.045))  # ~5 km north
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["at_household"] is False
    assert v["credited"] is False
    assert v["countersign"] is None
    assert v["confirmation"] == "unconfirmed"
    assert 4900 < v["distance_m"] < 5100
    # The fix is a check-in all the same.
    ids = {c["id"] for c in world.get("alice", "/checkins").json()["items"]}
    assert v["checkin_id"] in ids
    detail = world.get("county", f"/households/{household['id']}").json()
    assert detail["last_visit_at"] is None
    # A poor fix whose accuracy circle reaches the household is at it.
    r = world.post("alice", "/visits", json=visit(household, dlat=0.002, accuracy=150))
    assert r.json()["at_household"] is True


def test_visits_to_households_not_paired_or_unknown_are_404_and_photos_are_ignored(world):
    paired = today() - timedelta(days=100)
    assert import_csv(world, csv_of(row("N1", 0, "alice", paired))).status_code == 200
    household = households_by_code(world)["N1"]
    r = world.post("bob", "/visits", json=visit(household))
    assert r.status_code == 404
    assert r.json()["code"] == "household_not_found"
    r = world.post("alice", "/visits", json={**visit(household), "household_id": 999999})
    assert r.status_code == 404
    r = world.post(
        "alice", "/visits", json={**visit(household), "photo": "data:image/jpeg;base64,AA"}
    )
    assert r.status_code == 201
    assert "photo" not in r.json()
    old = world.post("alice", "/visits", json=visit(household, ago=timedelta(days=60)))
    assert old.status_code == 422
    assert old.json()["code"] == "too_old"
    assert (
        world.post("alice", "/visits", json={**visit(household), "topics": ["gossip"]}).status_code
        == 422
    )
