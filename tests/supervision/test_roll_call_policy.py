"""Township roll calls, when a deployment's policy allows them."""

from __future__ import annotations

import pytest

from app.core.policy import Policy, SupervisionPolicy
from tests.supervision.test_roll_calls import issue


@pytest.fixture
def policy() -> Policy:
    return Policy(supervision=SupervisionPolicy(township_roll_calls=True))


def test_townships_call_their_own_township_when_the_policy_allows(world):
    r = issue(world, "township1", "430121001")
    assert r.status_code == 201, r.text
    assert r.json()["called"] == 2
    r = issue(world, "township1", "430121002")
    assert (r.status_code, r.json()["code"]) == (404, "scope_not_found")
