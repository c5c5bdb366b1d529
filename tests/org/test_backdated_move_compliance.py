"""Compliance counts a fix's flags as judged now: with `wrong_village` among the serious flags,
fixes judged again against a village a backdated move put the member in become suspicious,
and fixes moved back lose it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.policy import FlagPolicy, Policy
from tests.checkins.helpers import fix
from tests.ledger.support import at_local, today
from tests.org.helpers import zhucun

OLD, NEW = "430121001001", "430121002001"


@pytest.fixture
def policy() -> Policy:
    return Policy(flags=FlagPolicy(serious=("mock_location", "wrong_village")))


def _suspicious(world, member, day):
    period = f"{day.year}Q{(day.month - 1) // 3 + 1}"
    r = world.get("county", f"/compliance/members/{member}?period={period}")
    assert r.status_code == 200, r.text
    return [v for v in r.json()["violations"] if v["code"] == "suspicious_checkins"]


def _move(db_url, village, first_day):
    result = zhucun(
        db_url, "assignment", "move", "--username=alice",
        f"--village={village}", f"--first-day={first_day}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr


def test_place_flags_count_as_judged_now(world, db_url):
    alice = world.members["alice"].id
    day = today() - timedelta(days=1)
    r = world.post("alice", "/checkins", json=fix(OLD, at=at_local(day, 9)))
    assert r.status_code == 201
    assert _suspicious(world, alice, day) == []

    _move(db_url, NEW, day)
    found = _suspicious(world, alice, day)
    assert len(found) == 1
    assert "1 check-in(s)" in found[0]["detail"]
    assert "wrong_village" in found[0]["detail"]

    _move(db_url, OLD, day)
    assert _suspicious(world, alice, day) == []
