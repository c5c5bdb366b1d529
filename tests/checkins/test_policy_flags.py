"""The policy decides which flags leave a fix uncredited, and the thresholds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.policy import FlagPolicy, GeofencePolicy, Policy
from tests.checkins.helpers import fix


@pytest.fixture
def policy() -> Policy:
    return Policy(
        geofence=GeofencePolicy(near_m=50.0, max_accuracy_m=30.0),
        flags=FlagPolicy(uncredited=("late_sync",), late_sync_hours=1.0),
    )


def test_uncredited_flags_and_limits_come_from_the_policy(world):
    mock = world.post("alice", "/checkins", json=fix(is_mock=True)).json()
    assert (mock["flags"], mock["credited"]) == (["mock_location"], True)
    late = world.post("alice", "/checkins", json=fix(ago=timedelta(hours=2))).json()
    assert (late["flags"], late["credited"]) == (["late_sync"], False)
    rough = world.post("alice", "/checkins", json=fix(accuracy_m=40)).json()
    assert (rough["flags"], rough["credited"]) == (["low_accuracy"], False)
    near = world.post("alice", "/checkins", json=fix(dlat=0.0109)).json()  # ~100 m out
    assert (near["geofence"], near["credited"]) == ("outside", False)
