"""`zhucun assignment end|move`: the operator's way to end or move an assignment, with the
ledger refreshed from that day in the same transaction."""

from __future__ import annotations

from datetime import timedelta

from tests.checkins.helpers import fix
from tests.ledger.support import today
from tests.org.helpers import zhucun

NEW_VILLAGE = "430121002001"  # township 430121002, carol's


def days(world, user, member, start, end):
    r = world.get(user, f"/members/{member}/presence?from={start}&to={end}")
    assert r.status_code == 200, r.text
    return {d["date"]: d["status"] for d in r.json()["days"]}


def test_move_a_member_to_another_village(world, db_url):
    alice = world.members["alice"].id
    now = today()
    moved_on = now - timedelta(days=3)
    before = now - timedelta(days=5)
    assert world.post("alice", "/checkins", json=fix(at=_noon(before))).status_code == 201

    result = zhucun(
        db_url, "assignment", "move", "--username=alice",
        f"--village={NEW_VILLAGE}", f"--first-day={moved_on}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    assert f"moves to {NEW_VILLAGE} from {moved_on}" in result.output

    mine = world.get("alice", "/me/assignment").json()
    assert (mine["village_code"], mine["start_date"]) == (NEW_VILLAGE, str(moved_on))
    out = world.post("alice", "/checkins", json=fix(NEW_VILLAGE)).json()
    assert (out["assigned_village_code"], out["geofence"]) == (NEW_VILLAGE, "inside")
    # The old township sees the days before the move; the new one those from it on.
    old = days(world, "township1", alice, before, now)
    new = days(world, "township2", alice, before, now)
    assert str(before) in old
    assert str(moved_on) not in old
    assert str(moved_on) in new
    assert str(before) not in new


def test_end_an_assignment_leaves_later_days_unassigned(world, db_url):
    bob = world.members["bob"].id
    now = today()
    last = now - timedelta(days=2)
    result = zhucun(db_url, "assignment", "end", "--username=bob", f"--last-day={last}")
    assert result.exit_code == 0, result.output + result.stderr
    statuses = days(world, "county", bob, last - timedelta(days=1), now)
    assert statuses[str(last)] != "unassigned"
    assert statuses[str(last + timedelta(days=1))] == "unassigned"
    assert world.get("bob", "/me/assignment").json()["code"] == "no_assignment"


def test_refusals_name_the_reason(world, db_url):
    now = today()
    unknown = zhucun(db_url, "assignment", "end", "--username=nobody", f"--last-day={now}")
    assert unknown.exit_code == 1
    same = zhucun(
        db_url, "assignment", "move", "--username=alice",
        "--village=430121001001", f"--first-day={now}",
    )  # fmt: skip
    assert same.exit_code == 1
    assert "already in 430121001001" in same.stderr
    nowhere = zhucun(
        db_url, "assignment", "move", "--username=alice",
        "--village=999999999999", f"--first-day={now}",
    )  # fmt: skip
    assert nowhere.exit_code == 1


def _noon(day):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time(12), ZoneInfo("Asia/Shanghai"))
