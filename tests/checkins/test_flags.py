"""Every risk flag, and which flags leave a fix uncredited (flags are evidence, not verdicts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.checkins.helpers import fix

ALICE_VILLAGE = "430121001001"
BOB_VILLAGE = "430121001002"
CAROL_VILLAGE = "430121002001"


def post(world, body, user="alice"):
    r = world.post(user, "/checkins", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_clean_fix_has_no_flags(world):
    assert post(world, fix(device_id="phone-1", is_mock=False, provider="gps"))["flags"] == []


def test_mock_location_is_flagged_and_not_credited(world):
    out = post(world, fix(is_mock=True))
    assert out["flags"] == ["mock_location"]
    assert (out["geofence"], out["credited"]) == ("inside", False)


def test_low_accuracy_is_flagged_and_not_credited(world):
    out = post(world, fix(accuracy_m=200.5))
    assert (out["flags"], out["credited"]) == (["low_accuracy"], False)
    assert post(world, fix(accuracy_m=200.0))["credited"] is True


def test_impossible_speed_from_the_previous_fix(world):
    t = datetime.now(UTC) - timedelta(hours=1)
    post(world, fix(ALICE_VILLAGE, at=t))
    # Carol's village is 4 km east: in 10 s that is 1,440 km/h; in 10 min, 24 km/h.
    assert post(world, fix(CAROL_VILLAGE, at=t + timedelta(seconds=10)))["flags"] == [
        "impossible_speed",
        "wrong_village",
    ]
    later = post(world, fix(CAROL_VILLAGE, at=t + timedelta(minutes=20)))
    assert "impossible_speed" not in later["flags"]


def test_impossible_speed_to_the_next_fix_for_a_late_upload(world):
    t = datetime.now(UTC) - timedelta(hours=2)
    post(world, fix(CAROL_VILLAGE, at=t + timedelta(seconds=30)))
    # Uploaded later but captured before: judged against the fix that follows it.
    out = post(world, fix(ALICE_VILLAGE, at=t))
    assert out["flags"] == ["impossible_speed"]
    assert out["credited"] is True  # evidence, not a verdict


def test_clock_skew(world):
    assert post(world, fix(ago=-timedelta(minutes=6)))["flags"] == ["clock_skew"]
    assert post(world, fix(ago=-timedelta(minutes=4)))["flags"] == []


def test_late_sync(world):
    out = post(world, fix(ago=timedelta(hours=73)))
    assert (out["flags"], out["credited"]) == (["late_sync"], True)
    assert post(world, fix(ago=timedelta(hours=71)))["flags"] == []


def test_repeated_fix_on_another_day_only(world):
    spot = {"latitude": 28.3123456, "longitude": 113.0123456}
    assert post(world, fix(ago=timedelta(days=2), **spot))["flags"] == []
    assert post(world, fix(ago=timedelta(days=2, hours=-1), **spot))["flags"] in (
        [],
        ["repeated_fix"],  # an hour later may cross midnight in Asia/Shanghai
    )
    out = post(world, fix(**spot))
    assert (out["flags"], out["credited"]) == (["repeated_fix"], True)
    # Another member at the same spot is no repeat of alice's.
    assert post(world, fix(**spot), user="bob")["flags"] == ["wrong_village"]


def test_device_change_after_the_first_device(world):
    assert post(world, fix(device_id="phone-a"))["flags"] == []
    assert post(world, fix(device_id="phone-a"))["flags"] == []
    assert post(world, fix())["flags"] == []  # no device_id: nothing to compare
    assert post(world, fix(device_id="phone-b"))["flags"] == ["device_change"]
    assert post(world, fix(device_id="phone-b"))["flags"] == []


def test_wrong_village_needs_another_village_and_beyond_tolerance(world):
    out = post(world, fix(BOB_VILLAGE, ago=timedelta(hours=3)))
    assert out["village_code"] == BOB_VILLAGE
    assert (out["geofence"], out["credited"], out["flags"]) == ("outside", False, ["wrong_village"])
    # 100 m into bob's village is still near alice's: credited, not wrong.
    edge = post(world, fix(ALICE_VILLAGE, dlon=0.011, ago=timedelta(hours=2)))
    assert edge["village_code"] == BOB_VILLAGE
    assert (edge["geofence"], edge["credited"], edge["flags"]) == ("near", True, [])
    # Outside every village: outside, but no wrong_village.
    assert post(world, fix(ALICE_VILLAGE, dlat=0.05, ago=timedelta(hours=1)))["flags"] == []


def test_flags_come_in_a_fixed_order(world):
    out = post(world, fix(is_mock=True, accuracy_m=900, ago=-timedelta(minutes=30)))
    assert out["flags"] == ["mock_location", "low_accuracy", "clock_skew"]
