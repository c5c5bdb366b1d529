"""POST /checkins: the answer's shape, geofence judgement, coordinates, the time window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyproj import Geod
from sqlalchemy import func, select, update

from app.checkins.models import CheckIn
from app.geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from app.org.models import Assignment
from tests.checkins.helpers import fix
from tests.world import LAT0, centre

ALICE_VILLAGE = "430121001001"  # 113.00–113.02, 28.30–28.32; bob's village is east of it
BOB_VILLAGE = "430121001002"
CHECKIN_FIELDS = {
    "id", "client_id", "member_id", "captured_at", "received_at", "local_date", "latitude",
    "longitude", "coord_system", "accuracy_m", "village_code", "assigned_village_code",
    "geofence", "distance_m", "credited", "flags", "flag_reasons", "wifi_match", "voided",
    "reviews", "roll_call_id", "roll_call_status", "findings", "rejudged", "purged",
}  # fmt: skip
GEOD = Geod(ellps="WGS84")
NORTH_EDGE = LAT0 + 0.02
HOUR = timedelta(hours=1)


def stored(db) -> int:
    count = db.scalar(select(func.count()).select_from(CheckIn))
    db.commit()  # end the read: on SQLite every transaction holds the write lock
    return count


def test_a_fix_inside_the_assigned_village_is_credited(world):
    body = fix(ALICE_VILLAGE)
    r = world.post("alice", "/checkins", json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert set(out) == CHECKIN_FIELDS
    assert out["client_id"] == body["client_id"]
    assert out["member_id"] == world.members["alice"].id
    assert out["village_code"] == out["assigned_village_code"] == ALICE_VILLAGE
    assert (out["geofence"], out["distance_m"], out["credited"]) == ("inside", 0.0, True)
    assert out["flags"] == []
    assert out["voided"] is False
    assert out["reviews"] == []
    assert out["coord_system"] == "wgs84"
    assert out["captured_at"].endswith("Z")


def test_local_date_is_the_deployment_zone_date(world):
    # 17:30 UTC is 01:30 the next day in Asia/Shanghai.
    at = (datetime.now(UTC) - timedelta(days=2)).replace(hour=17, minute=30)
    r = world.post("alice", "/checkins", json=fix(at=at))
    assert r.json()["local_date"] == (at + timedelta(hours=8)).date().isoformat()


def test_a_fix_near_the_boundary_is_credited_and_one_further_out_is_not(world):
    lon = centre(ALICE_VILLAGE)[0]
    near = world.post("alice", "/checkins", json=fix(dlat=0.0109, ago=HOUR * 2)).json()  # 100 m
    assert (near["geofence"], near["credited"], near["village_code"]) == ("near", True, None)
    assert 90 < near["distance_m"] < 110
    far = world.post("alice", "/checkins", json=fix(dlat=0.0127, ago=HOUR)).json()  # 300 m
    assert (far["geofence"], far["credited"], far["flags"]) == ("outside", False, [])
    expected = GEOD.inv(lon, far["latitude"], lon, NORTH_EDGE)[2]
    assert abs(far["distance_m"] - expected) < 1.0


def test_distance_to_a_corner_is_geodesic(world):
    # North-west of the village's north-west corner (113.00, 28.32): the corner is nearest.
    out = world.post("alice", "/checkins", json=fix(dlon=-0.0120, dlat=0.0120)).json()
    corner = (113.00, NORTH_EDGE)
    expected = GEOD.inv(out["longitude"], out["latitude"], *corner)[2]
    assert out["geofence"] == "outside"
    assert abs(out["distance_m"] - expected) < 1.0


@pytest.mark.parametrize(
    ("system", "convert"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)]
)
def test_gcj02_and_bd09_fixes_land_in_the_right_village(world, system, convert):
    # 300 m inside alice's east edge: unconverted, the offset (500 m–1.2 km east) would put
    # the fix in bob's village.
    lon, lat = 113.017, 28.31
    raw_lon, raw_lat = convert(lon, lat)
    assert raw_lon > 113.02
    body = fix(latitude=raw_lat, longitude=raw_lon, coord_system=system)
    out = world.post("alice", "/checkins", json=body).json()
    assert out["coord_system"] == system
    assert out["village_code"] == ALICE_VILLAGE
    assert (out["geofence"], out["credited"]) == ("inside", True)
    assert abs(out["longitude"] - lon) < 1e-7
    assert abs(out["latitude"] - lat) < 1e-7


def test_raw_coordinates_are_kept_beside_the_converted_ones(world, db):
    raw_lon, raw_lat = wgs84_to_gcj02(113.01, 28.31)
    body = fix(latitude=raw_lat, longitude=raw_lon, coord_system="gcj02")
    checkin_id = world.post("alice", "/checkins", json=body).json()["id"]
    row = db.get(CheckIn, checkin_id)
    assert (row.raw_longitude, row.raw_latitude, row.coord_system) == (raw_lon, raw_lat, "gcj02")
    assert abs(row.longitude - 113.01) < 1e-7


def test_the_boundary_version_judged_against_is_stored(world, db):
    from app.org.models import VillageBoundary

    checkin_id = world.post("alice", "/checkins", json=fix()).json()["id"]
    boundary_id = db.scalar(
        select(VillageBoundary.id).where(
            VillageBoundary.village_code == ALICE_VILLAGE, VillageBoundary.valid_to.is_(None)
        )
    )
    assert db.get(CheckIn, checkin_id).boundary_id == boundary_id


def test_no_assignment_that_day(world, db):
    db.execute(
        update(Assignment)
        .where(Assignment.member_id == world.members["alice"].id)
        .values(end_date=datetime.now(UTC).date() - timedelta(days=3))
    )
    db.commit()
    out = world.post("alice", "/checkins", json=fix()).json()
    assert out["assigned_village_code"] is None
    assert out["geofence"] is None
    assert out["distance_m"] is None
    assert out["credited"] is False
    assert out["flags"] == ["no_assignment"]
    assert out["village_code"] == ALICE_VILLAGE  # still located
    earlier = world.post("alice", "/checkins", json=fix(ago=timedelta(days=5))).json()
    assert earlier["credited"] is True
    assert earlier["assigned_village_code"] == ALICE_VILLAGE


def test_only_members_check_in(world):
    for user in ("township1", "admin", "auditor"):
        r = world.post(user, "/checkins", json=fix())
        assert r.status_code == 403, user
        assert r.json()["code"] == "role_required"
    assert world.client.post("/api/v1/checkins", json=fix()).status_code == 401


def test_too_old_and_in_future_are_refused_and_nothing_is_stored(world, db):
    old = world.post("alice", "/checkins", json=fix(ago=timedelta(days=30, minutes=5)))
    assert (old.status_code, old.json()["code"]) == (422, "too_old")
    future = world.post("alice", "/checkins", json=fix(ago=-timedelta(hours=24, minutes=5)))
    assert (future.status_code, future.json()["code"]) == (422, "in_future")
    assert stored(db) == 0
    # Just inside the window: stored, and flagged.
    late = world.post("alice", "/checkins", json=fix(ago=timedelta(days=29, hours=23)))
    ahead = world.post("alice", "/checkins", json=fix(ago=-timedelta(hours=23)))
    assert late.status_code == ahead.status_code == 201
    assert "late_sync" in late.json()["flags"]
    assert "clock_skew" in ahead.json()["flags"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("captured_at", "2026-05-01T08:00:00"),  # no offset
        ("captured_at", "1764000000"),
        ("captured_at", 1764000000),
        ("captured_at", "yesterday"),
        ("latitude", 90.5),
        ("latitude", True),
        ("longitude", -181),
        ("longitude", "113.0"),
        ("accuracy_m", 0),
        ("accuracy_m", -5),
        ("coord_system", "cgcs2000"),
        ("client_id", "not-a-uuid"),
        ("client_id", 12),
        ("provider", "satellite"),
        ("device_id", "a\x00b"),
        ("device_id", "x" * 200),
    ],
)
def test_bad_input_is_a_validation_problem(world, db, field, value):
    r = world.post("alice", "/checkins", json=fix(**{field: value}))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error"
    assert field in {e["loc"][-1] for e in r.json()["errors"]}
    assert stored(db) == 0


def test_non_finite_numbers_and_broken_json_are_refused(world, db):
    headers = {**world.headers("alice"), "Content-Type": "application/json"}
    body = (
        '{{"client_id": "{}", "captured_at": "{}", "latitude": NaN, "longitude": 113.01, '.format(
            fix()["client_id"],
            datetime.now(UTC).isoformat(),
        )
    )
    for text in (body + '"accuracy_m": 5}', body.replace("NaN", "Infinity") + '"accuracy_m": 5}'):
        r = world.client.post("/api/v1/checkins", content=text, headers=headers)
        assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    r = world.client.post("/api/v1/checkins", content=b'{"client_id": ', headers=headers)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    r = world.client.post("/api/v1/checkins", content=b"x" * 2_100_000, headers=headers)
    assert (r.status_code, r.json()["code"]) == (413, "payload_too_large")
    assert stored(db) == 0
