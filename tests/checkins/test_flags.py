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


GPS = {"altitude_m": 61.3, "speed_mps": 0.4, "heading_deg": 212.0, "provider": "gps"}


def test_repeated_fix_on_another_day_only(world):
    spot = {"latitude": 28.3123456, "longitude": 113.0123456, **GPS}
    assert post(world, fix(ago=timedelta(days=2), **spot))["flags"] == []
    assert post(world, fix(ago=timedelta(days=2, hours=-1), **spot))["flags"] in (
        [],
        ["repeated_fix"],  # an hour later may cross midnight in Asia/Shanghai
    )
    out = post(world, fix(**spot))
    assert (out["flags"], out["credited"]) == (["repeated_fix"], True)
    # Another member at the same spot is no repeat of alice's.
    assert post(world, fix(**spot), user="bob")["flags"] == ["wrong_village"]


def test_a_replay_with_centimetres_of_noise_is_still_a_repeated_fix(world):
    spot = {"latitude": 28.3123456, "longitude": 113.0123456, **GPS}
    post(world, fix(ago=timedelta(days=3), **spot))
    # 0.1 m north and east: a replay tool's noise; every other field as reported that day.
    noisy = spot | {"latitude": 28.3123465, "longitude": 113.0123466}
    assert post(world, fix(**noisy))["flags"] == ["repeated_fix"]
    # A genuine fix at the same desk: the receiver reports another altitude and speed.
    genuine = noisy | {"altitude_m": 63.9, "speed_mps": 0.0}
    assert post(world, fix(ago=timedelta(minutes=30), **genuine))["flags"] == []
    # Three metres away is another place, whatever the fields say.
    moved = spot | {"latitude": 28.3123726}
    assert post(world, fix(ago=timedelta(minutes=20), **moved))["flags"] == []


def test_a_network_fix_repeated_across_days_is_no_replay(world):
    # Wi-Fi/cell positioning returns the same point for the same access points every day;
    # without altitude, speed or heading there is nothing to tell a replay by.
    spot = {"latitude": 28.3123456, "longitude": 113.0123456, "provider": "network"}
    post(world, fix(ago=timedelta(days=4), accuracy_m=30.0, **spot))
    assert post(world, fix(accuracy_m=30.0, **spot))["flags"] == []


def test_a_provider_switch_is_not_impossible_speed(world):
    t = datetime.now(UTC) - timedelta(hours=1)
    # A network fix (500 m) then a GPS fix 780 m away 5 s later, both in the village: the
    # GPS fix lies within the first fix's own accuracy circle plus 280 m.
    post(world, fix(at=t, accuracy_m=500.0, provider="network"))
    out = post(world, fix(at=t + timedelta(seconds=5), dlat=0.00702, accuracy_m=8.0))
    assert "impossible_speed" not in out["flags"]
    assert out["geofence"] == "inside"


def test_teleporting_into_the_village_is_impossible_speed(world):
    t = datetime.now(UTC) - timedelta(hours=1)
    # 200 km away, then in the village 10 minutes later: 1,200 km/h.
    post(world, fix(at=t, dlat=1.8, accuracy_m=20.0))
    out = post(world, fix(at=t + timedelta(minutes=10), accuracy_m=20.0))
    assert "impossible_speed" in out["flags"]


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


def test_every_flag_comes_with_its_numbers_in_the_readers_language(world):
    t = datetime.now(UTC) - timedelta(hours=1)
    post(world, fix(at=t, dlat=1.8, accuracy_m=20.0))
    body = fix(at=t + timedelta(minutes=10), accuracy_m=250.0, is_mock=True)
    zh = world.post("alice", "/checkins", json=body).json()
    assert zh["flags"] == ["mock_location", "low_accuracy", "impossible_speed"]
    reasons = {r["flag"]: r["reason"] for r in zh["flag_reasons"]}
    assert set(reasons) == set(zh["flags"])
    assert "250 米" in reasons["low_accuracy"]
    assert "600 秒" in reasons["impossible_speed"]
    en = world.client.get(
        f"/api/v1/checkins?member_id={zh['member_id']}",
        headers=world.headers("county", **{"Accept-Language": "en"}),
    ).json()["items"][0]
    speed = next(r["reason"] for r in en["flag_reasons"] if r["flag"] == "impossible_speed")
    # About 200 km less both accuracy circles, in 600 s: some 1,190 km/h.
    assert "in 600 s beyond both accuracy circles" in speed
    assert "km/h, over the 300 km/h limit" in speed


def test_a_clean_fix_has_no_reasons(world):
    assert post(world, fix())["flag_reasons"] == []
