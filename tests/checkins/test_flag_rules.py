"""The speed and replay rules as pure functions (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.checkins.rules import (
    Fix,
    Reading,
    distance_bound_m,
    distance_m,
    replay_box,
    replays,
    speed_kmh,
)
from app.core.policy import FlagPolicy

T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
RULES = FlagPolicy()

lats = st.floats(18.0, 53.0)
lons = st.floats(73.0, 135.0)
accuracies = st.floats(1.0, 2000.0)
gaps = st.floats(0.0, 86_400.0)


@given(lats, lons, accuracies, lats, lons, accuracies, gaps)
def test_speed_is_never_negative_and_zero_inside_the_circles(
    lat1: float, lon1: float, acc1: float, lat2: float, lon2: float, acc2: float, gap: float
) -> None:
    a = Fix(T0, lat1, lon1, acc1)
    b = Fix(T0 + timedelta(seconds=gap), lat2, lon2, acc2)
    speed = speed_kmh(a, b, RULES.speed_min_interval_s)
    assert speed >= 0
    if distance_m(a, b) <= acc1 + acc2:
        assert speed == 0
    assert speed == pytest.approx(speed_kmh(b, a, RULES.speed_min_interval_s))  # symmetric


def test_the_time_base_has_a_floor() -> None:
    a = Fix(T0, 28.0, 113.0, 10.0)
    b = Fix(T0 + timedelta(seconds=1), 28.0, 113.0005, 10.0)  # about 49 m apart
    beyond = distance_m(a, b) - 20.0
    assert speed_kmh(a, b, 10.0) == pytest.approx(beyond / 10.0 * 3.6)  # judged as 10 s, not 1 s


motion = st.one_of(st.none(), st.floats(-100.0, 5000.0))


@given(accuracies, motion, motion, motion)
def test_a_reading_replays_itself_unless_it_has_no_motion_fields(
    acc: float, alt: float | None, spd: float | None, hdg: float | None
) -> None:
    r = Reading(acc, alt, spd, hdg)
    assert replays(r, r, RULES) == r.has_motion_fields


@given(accuracies, st.floats(-100.0, 5000.0), st.sampled_from(["acc", "alt", "spd", "hdg"]))
def test_one_field_beyond_its_tolerance_is_no_replay(acc: float, alt: float, field: str) -> None:
    new = Reading(acc, alt, 1.0, 90.0)
    nudge = {
        "acc": RULES.repeat_accuracy_tolerance_m,
        "alt": RULES.repeat_altitude_tolerance_m,
        "spd": RULES.repeat_speed_tolerance_mps,
        "hdg": RULES.repeat_heading_tolerance_deg,
    }[field] * 1.5 + 0.01
    old = Reading(
        acc + nudge * (field == "acc"),
        alt + nudge * (field == "alt"),
        1.0 + nudge * (field == "spd"),
        90.0 + nudge * (field == "hdg"),
    )
    assert not replays(new, old, RULES)
    # A field reported by one fix and not the other is a difference too.
    assert not replays(new, Reading(acc, None, 1.0, 90.0), RULES)


def test_the_replay_box_is_the_tolerance_along_each_axis() -> None:
    dlat, dlon = replay_box(28.0, 1.0)
    north = distance_m(Fix(T0, 28.0, 113.0), Fix(T0, 28.0 + dlat, 113.0))
    east = distance_m(Fix(T0, 28.0, 113.0), Fix(T0, 28.0, 113.0 + dlon))
    assert abs(north - 1.0) < 0.01
    assert abs(east - 1.0) < 0.01


_LAT = st.floats(-89.9, 89.9, allow_nan=False)
_LON = st.floats(-180.0, 180.0, allow_nan=False)
_NEAR = st.floats(-0.05, 0.05, allow_nan=False)  # a few km: neighbouring fixes


@given(_LAT, _LON, _LAT, _LON)
def test_the_cheap_distance_bound_never_falls_short_of_the_geodesic(lat1, lon1, lat2, lon2):
    # The speed check skips the geodesic when the bound alone shows a plausible speed: sound
    # only if the bound is never below the distance, anywhere on the globe.
    a, b = Fix(T0, lat1, lon1), Fix(T0, lat2, lon2)
    assert distance_bound_m(a, b) >= distance_m(a, b)


@given(_LAT, _LON, _NEAR, _NEAR)
def test_the_bound_is_close_for_neighbouring_fixes(lat, lon, dlat, dlon):
    a, b = Fix(T0, lat, lon), Fix(T0, max(-89.95, min(89.95, lat + dlat)), lon + dlon)
    exact = distance_m(a, b)
    # A micrometre of slack: for fixes 1e-11 m apart the two formulas' rounding differs by more
    # than 2% of the distance (hypothesis found dlat = 2e-16 degrees).
    assert exact <= distance_bound_m(a, b) <= exact * 1.02 + 1.0 + 1e-6
