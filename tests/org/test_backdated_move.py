"""A move or end dated back: the fixes of the changed days follow the assignment in force on
their local date — who sees and reviews them, and how they are judged (issue 18, item 1).

The outside probe's reproducer: `zhucun assignment move --first-day <two days ago>` left the old
township listing and voiding the moved days' fixes while the new township saw none, and the
new township's day `present` from fixes judged against the old village."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.checkins.helpers import fix
from tests.ledger.support import at_local, today
from tests.org.helpers import zhucun

OLD = "430121001001"  # township 430121001 (township1), alice's village
NEW = "430121002001"  # township 430121002 (township2)


def _present_day(world, day):
    """Two fixes of alice 7 hours apart inside her (old) village: a present day."""
    ids = []
    for hour in (8, 15):
        r = world.post("alice", "/checkins", json=fix(OLD, at=at_local(day, hour)))
        assert r.status_code == 201, r.text
        assert r.json()["credited"] is True
        ids.append(r.json()["id"])
    return ids


def _listed(world, user, member, day):
    r = world.get(user, f"/checkins?member_id={member}&from={day}&to={day}")
    assert r.status_code == 200, r.text
    return {item["id"]: item for item in r.json()["items"]}


def _status(world, user, member, day):
    r = world.get(user, f"/members/{member}/presence?from={day}&to={day}")
    assert r.status_code == 200, r.text
    return {d["date"]: d["status"] for d in r.json()["days"]}.get(str(day))


def _move(db_url, village, first_day):
    result = zhucun(
        db_url, "assignment", "move", "--username=alice",
        f"--village={village}", f"--first-day={first_day}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    return result.output


def test_backdated_move_hands_the_days_fixes_to_the_new_township(world, db_url):
    alice = world.members["alice"].id
    moved_on = today() - timedelta(days=2)
    kept = today() - timedelta(days=4)
    kept_ids = _present_day(world, kept)
    moved_ids = _present_day(world, moved_on)
    assert _status(world, "township1", alice, moved_on) == "present"

    output = _move(db_url, NEW, moved_on)
    assert "2 check-in(s) judged again" in output

    # The old township: the day before the move as before; the moved day's fixes are gone.
    assert set(_listed(world, "township1", alice, kept)) == set(kept_ids)
    assert _listed(world, "township1", alice, moved_on) == {}
    void = world.post("township1", f"/checkins/{moved_ids[0]}/void", json={"reason": "x"})
    assert void.status_code == 404, void.text

    # The new township sees them, judged against its village: 4 km away, not credited.
    listed = _listed(world, "township2", alice, moved_on)
    assert set(listed) == set(moved_ids)
    for item in listed.values():
        assert item["assigned_village_code"] == NEW
        assert item["geofence"] == "outside"
        assert item["distance_m"] > 1000
        assert item["credited"] is False
        assert "wrong_village" in item["flags"]
        assert item["village_code"] == OLD  # where the point is does not change
        assert item["rejudged"]["cause"] == "assignment.move"
    assert _listed(world, "township2", alice, kept) == {}
    # …and so its day is not present, and the new township reviews the fixes.
    assert _status(world, "township2", alice, moved_on) == "absent"
    void = world.post("township2", f"/checkins/{moved_ids[0]}/void", json={"reason": "核实"})
    assert void.status_code == 200, void.text
    # The member sees the same judgement; the day before the move keeps its own.
    mine = _listed(world, "alice", alice, moved_on)
    assert {i["assigned_village_code"] for i in mine.values()} == {NEW}
    before = _listed(world, "alice", alice, kept)
    assert all(i["rejudged"] is None and i["credited"] for i in before.values())

    # The chains never changed, and the ledger is what a rebuild makes of it.
    verify = zhucun(db_url, "audit", "verify")
    assert verify.exit_code == 0, verify.output + verify.stderr
    ledger = {d: _status(world, "county", alice, d) for d in (kept, moved_on)}
    rebuilt = zhucun(db_url, "ledger", "rebuild", f"--member={alice}")
    assert rebuilt.exit_code == 0, rebuilt.output + rebuilt.stderr
    assert {d: _status(world, "county", alice, d) for d in (kept, moved_on)} == ledger


def test_a_resent_fix_answers_its_current_judgement(world, db_url):
    moved_on = today() - timedelta(days=2)
    body = fix(OLD, at=at_local(moved_on, 9))
    first = world.post("alice", "/checkins", json=body)
    assert first.status_code == 201
    _move(db_url, NEW, moved_on)
    again = world.post("alice", "/checkins", json=body)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["assigned_village_code"] == NEW
    assert again.json()["credited"] is False


def test_moving_back_restores_the_judgement_on_arrival(world, db_url):
    alice = world.members["alice"].id
    moved_on = today() - timedelta(days=2)
    ids = _present_day(world, moved_on)
    _move(db_url, NEW, moved_on)
    assert _status(world, "county", alice, moved_on) == "absent"
    # The move's own first day: the same assignment, back in the old village.
    output = _move(db_url, OLD, moved_on)
    assert "2 check-in(s) judged again" in output
    listed = _listed(world, "township1", alice, moved_on)
    assert set(listed) == set(ids)
    assert all(i["rejudged"] is None and i["credited"] for i in listed.values())
    assert _status(world, "township1", alice, moved_on) == "present"


def test_backdated_end_leaves_the_days_fixes_unassigned(world, db_url):
    bob = world.members["bob"].id
    bob_village = world.get("bob", "/me/assignment").json()["village_code"]
    last = today() - timedelta(days=3)
    after = last + timedelta(days=1)
    r = world.post("bob", "/checkins", json=fix(bob_village, at=at_local(after, 10)))
    assert r.status_code == 201
    assert r.json()["credited"] is True
    ended = zhucun(db_url, "assignment", "end", "--username=bob", f"--last-day={last}")
    assert ended.exit_code == 0, ended.output + ended.stderr
    item = _listed(world, "county", bob, after)[r.json()["id"]]
    assert item["assigned_village_code"] is None
    assert item["geofence"] is None
    assert item["distance_m"] is None
    assert item["credited"] is False
    assert "no_assignment" in item["flags"]
    assert item["rejudged"]["cause"] == "assignment.end"
    assert _status(world, "county", bob, after) == "unassigned"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_rejudged_flags_keep_their_reasons(world, db_url, lang):
    moved_on = today() - timedelta(days=1)
    r = world.post("alice", "/checkins", json=fix(OLD, at=at_local(moved_on, 9)))
    _move(db_url, NEW, moved_on)
    item = world.client.get(
        f"/api/v1/checkins?from={moved_on}&to={moved_on}",
        headers=world.headers("alice") | {"Accept-Language": lang},
    ).json()["items"][0]
    assert item["id"] == r.json()["id"]
    reasons = {reason["flag"]: reason["reason"] for reason in item["flag_reasons"]}
    assert OLD in reasons["wrong_village"]
    assert NEW in reasons["wrong_village"]
