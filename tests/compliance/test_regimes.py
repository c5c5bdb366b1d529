"""Quota regimes that real counties use, set by a policy file alone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.core.policy import Policy, load_policy
from tests.compliance.support import (
    Q4_END,
    Q4_START,
    add_member,
    leave,
    live_in,
    set_today,
    workdays,
)

EAST = "430121001001"
STORY_FLAGS = "[flags]\nmax_age_days = 800\n"
MONTHLY = '[[quota.rules]]\nperiod = "month"\ndays = 20\n'
YEARLY_OFFICIAL = '[[quota.rules]]\nperiod = "year"\ndays = 200\nofficial_counts = true\n'
BOTH = (
    '[[quota.rules]]\nperiod = "quarter"\ndays = 50\n[[quota.rules]]\nperiod = "month"\ndays = 20\n'
)


@pytest.fixture
def policy(request: pytest.FixtureRequest, tmp_path: Path) -> Policy:
    path = tmp_path / "policy.toml"
    path.write_text(STORY_FLAGS + request.param, encoding="utf-8")
    return load_policy(path)


def body(world, key, **params):
    r = world.get("county", f"/compliance/members/{world.members[key].id}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("policy", [MONTHLY], indirect=True)
def test_twenty_days_a_month(world, app):
    set_today(app, date(2026, 1, 10))
    add_member(world, "he", EAST, date(2025, 1, 1))
    live_in(world, "he", EAST, workdays(Q4_START, Q4_END))
    november = body(world, "he", period="2025-11")
    assert november["rule"] == {"period": "month", "days": 20, "official_counts": False}
    assert (november["quarter"], november["period_start"]) == (None, "2025-11-01")
    assert november["status"] == "met"
    # October 2025 has 18 working days (National Day): every one of them is not enough
    october = body(world, "he", period="2025-10")
    assert (october["present_days"], october["status"]) == (18, "missed")
    r = world.get(
        "county", f"/compliance/members/{world.members['he'].id}", params={"period": "2025Q4"}
    )
    assert r.json()["code"] == "invalid_period"  # only a month rule is configured
    assert world.get("he", "/policy").json()["quota"] == {
        "rules": [{"period": "month", "days": 20, "official_counts": False}],
        "days_per_quarter": None,
    }


@pytest.mark.parametrize("policy", [YEARLY_OFFICIAL], indirect=True)
def test_two_hundred_days_a_year_with_official_business_counted(world, app):
    set_today(app, date(2026, 1, 10))
    add_member(world, "luo", EAST, date(2025, 10, 1))
    trip = (date(2025, 11, 3), date(2025, 11, 14))
    leave(world, "luo", "official", *trip)
    on_trip = workdays(*trip)
    live_in(world, "luo", EAST, [d for d in workdays(Q4_START, Q4_END) if d not in on_trip])
    year = body(world, "luo", period="2025")
    assert year["pro_rated"] is True
    assert year["required_days"] == -(-200 * 92 // 365)
    assert year["official_days"] == len(on_trip) == 10
    assert year["credited_days"] == year["present_days"] + 10
    assert year["leave_days"] == 10
    assert year["absent_workdays"] == 0


@pytest.mark.parametrize("policy", [BOTH], indirect=True)
def test_a_quarter_rule_and_a_month_rule_must_both_be_met(world, app):
    set_today(app, date(2026, 1, 10))
    add_member(world, "xu", EAST, date(2025, 1, 1))
    live_in(world, "xu", EAST, workdays(Q4_START, Q4_END))
    assert body(world, "xu", period="2025Q4")["status"] == "met"
    r = world.get("county", f"/compliance/members/{world.members['xu'].id}/rules",
                  params={"period": "2025Q4"})  # fmt: skip
    rules = r.json()
    assert [(i["period"], i["status"]) for i in rules["items"]] == [
        ("2025Q4", "met"), ("2025-10", "missed"), ("2025-11", "met"), ("2025-12", "met"),
    ]  # fmt: skip
    assert (rules["met"], rules["status"]) == (False, "missed")
