"""Pure check-in rules: the time window, risk flags and credit. No database here (the hashes
that idempotency and the chain are computed over are in `hashing`)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, get_args

from pyproj import Geod

from app.checkins.errors import InFuture, TooOld
from app.checkins.schemas import CheckInCreate
from app.core.policy import Flag, FlagPolicy, Policy

FLAG_ORDER: tuple[str, ...] = get_args(Flag)
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True)
class Fix:
    """Where and when a member was, as far as the speed check needs."""

    captured_at: datetime
    latitude: float
    longitude: float
    accuracy_m: float = 0.0


def check_window(captured_at: datetime, received_at: datetime, rules: FlagPolicy) -> None:
    """Refuse fixes too old to accept or too far in the future (flags cover the rest)."""
    if captured_at < received_at - timedelta(days=rules.max_age_days):
        raise TooOld(max_age_days=rules.max_age_days)
    if captured_at > received_at + timedelta(hours=rules.max_future_hours):
        raise InFuture(max_future_hours=f"{rules.max_future_hours:g}")


def distance_m(a: Fix, b: Fix) -> float:
    return float(_GEOD.inv(a.longitude, a.latitude, b.longitude, b.latitude)[2])


# The WGS84 geodesic never exceeds the great circle on a sphere of the mean radius by more
# than the largest radius of curvature over it (6,399.6 / 6,371.0 km: 0.45%).
_BOUND_RADIUS_M = 6_371_008.8 * 1.01


def distance_bound_m(a: Fix, b: Fix) -> float:
    """At least `distance_m(a, b)`, for a fraction of its cost (haversine, 1% and a metre
    over, the metre for rounding): enough to tell that two fixes are not far apart."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    across = (
        math.cos(lat1) * math.cos(lat2) * math.sin(math.radians(b.longitude - a.longitude) / 2) ** 2
    )
    h = math.sin((lat2 - lat1) / 2) ** 2 + across
    return 2 * _BOUND_RADIUS_M * math.asin(min(1.0, math.sqrt(h))) + 1.0


def speed_kmh(a: Fix, b: Fix, min_interval_s: float = 0.0) -> float:
    """The least ground speed two fixes imply: the distance beyond both accuracy circles
    (never below zero) over the time between them, that time taken as at least
    `min_interval_s`. A network fix (500 m) and a GPS fix 780 m away 5 s later are consistent;
    a fix 200 km from the one 10 minutes before is not."""
    return _speed_kmh(distance_m(a, b), a, b, min_interval_s)


def _speed_kmh(distance: float, a: Fix, b: Fix, min_interval_s: float) -> float:
    metres = max(0.0, distance - a.accuracy_m - b.accuracy_m)
    seconds = max(abs((b.captured_at - a.captured_at).total_seconds()), min_interval_s)
    if seconds == 0:
        return math.inf if metres > 0 else 0.0
    return metres / seconds * 3.6


@dataclass(frozen=True, slots=True)
class Reading:
    """What a receiver reported beside the position: real receivers vary these fix to fix."""

    accuracy_m: float
    altitude_m: float | None
    speed_mps: float | None
    heading_deg: float | None

    @property
    def has_motion_fields(self) -> bool:
        return not (self.altitude_m is None and self.speed_mps is None and self.heading_deg is None)


def reading(body: CheckInCreate) -> Reading:
    return Reading(body.accuracy_m, body.altitude_m, body.speed_mps, body.heading_deg)


def replay_box(latitude: float, tolerance_m: float) -> tuple[float, float]:
    """Half-sides, in degrees of latitude and longitude, of the box within which two positions
    are "the same place" for replay: `tolerance_m` along each axis."""
    metres_per_degree = 111_320.0
    dlat = tolerance_m / metres_per_degree
    dlon = tolerance_m / (metres_per_degree * max(math.cos(math.radians(latitude)), 1e-6))
    return dlat, dlon


def replays(new: Reading, old: Reading, rules: FlagPolicy) -> bool:
    """Whether `new` repeats `old` field for field (their positions being within the
    `replay_box`): the accuracy, and the altitude, speed and heading each missing from
    both or equal within its tolerance. A fix that reports none of altitude, speed and heading
    (a network or Wi-Fi position, which a phone at the same desk genuinely repeats) is never
    judged a replay. The SQL twin of this predicate is `service._replay_condition`."""
    if not new.has_motion_fields:
        return False
    pairs = (
        (new.altitude_m, old.altitude_m, rules.repeat_altitude_tolerance_m),
        (new.speed_mps, old.speed_mps, rules.repeat_speed_tolerance_mps),
        (new.heading_deg, old.heading_deg, rules.repeat_heading_tolerance_deg),
    )
    return abs(new.accuracy_m - old.accuracy_m) <= rules.repeat_accuracy_tolerance_m and all(
        (x is None and y is None) or (x is not None and y is not None and abs(x - y) <= tol)
        for x, y, tol in pairs
    )


@dataclass(frozen=True, slots=True)
class TrackMatch:
    """A run of a day's fixes repeating another day's, position by position."""

    start: int  # index of the run's first fix in the replaying day's sequence
    length: int
    shift_days: int  # the replay's shift: whole days ...
    shift_s: float  # ... plus this many seconds (the run's first pair)
    max_distance_m: float  # the farthest pair of the run


def _near_m(a: Fix, b: Fix) -> float:
    """Metres between two close positions (equirectangular: exact enough within metres)."""
    dy = (b.latitude - a.latitude) * 111_320.0
    dx = (b.longitude - a.longitude) * 111_320.0 * math.cos(math.radians(a.latitude))
    return math.hypot(dx, dy)


def replayed_track(new: list[Fix], old: list[Fix], rules: FlagPolicy) -> TrackMatch | None:
    """The longest run of at least `replay_track_min_fixes` consecutive fixes of `new` that
    repeats consecutive fixes of `old` (both in capture order, sorted by time): every pair within
    `replay_track_tolerance_m` of each other, and the time between them one constant shift -
    a non-zero number of whole days plus at most `replay_track_max_shift_minutes`, each pair
    straying at most `replay_track_time_tolerance_s` from the run's first - and covering at
    least `replay_track_min_spread_m` from its first fix (a phone logging at a desk every few
    minutes genuinely repeats itself; its replay is told by nothing). A genuine day
    lived again at the same places does not repeat another day's fixes to a few metres at
    the same moments, fix after fix; a replay tool's noise on every field stays within them."""
    day = 86_400.0
    max_shift = rules.replay_track_max_shift_minutes * 60
    best: TrackMatch | None = None
    if min(len(new), len(old)) < rules.replay_track_min_fixes:
        return None
    # Only pairs whose offset lies near whole days can start a run: look them up by time.
    new_s = [f.captured_at.timestamp() for f in new]
    old_s = [f.captured_at.timestamp() for f in old]
    whole_days = range(round((new_s[0] - old_s[-1]) / day), round((new_s[-1] - old_s[0]) / day) + 1)
    last_j = len(old) - rules.replay_track_min_fixes
    for i in range(len(new) - rules.replay_track_min_fixes + 1):
        starts = (
            j
            for d in whole_days
            if d != 0
            for j in range(
                bisect.bisect_left(old_s, new_s[i] - d * day - max_shift),
                bisect.bisect_right(old_s, new_s[i] - d * day + max_shift),
            )
            if j <= last_j
        )
        for j in starts:
            offset = new_s[i] - old_s[j]
            days = round(offset / day)
            if days == 0 or abs(offset - days * day) > max_shift:
                continue
            length, farthest, spread = 0, 0.0, 0.0
            while i + length < len(new) and j + length < len(old):
                a, b = new[i + length], old[j + length]
                gap = new_s[i + length] - old_s[j + length]
                metres = _near_m(a, b)
                if (
                    abs(gap - offset) > rules.replay_track_time_tolerance_s
                    or metres > rules.replay_track_tolerance_m
                ):
                    break
                length += 1
                farthest = max(farthest, metres)
                spread = max(spread, _near_m(new[i], a))
            if (
                length >= rules.replay_track_min_fixes
                and spread >= rules.replay_track_min_spread_m
                and (best is None or length > best.length)
            ):
                best = TrackMatch(i, length, days, offset - days * day, farthest)
    return best


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the flags are judged from, gathered by the service."""

    body: CheckInCreate
    received_at: datetime
    fix: Fix
    previous: Fix | None  # the member's fix just before, in capture order
    following: Fix | None  # just after (the new fix is a late upload)
    replayed_day: date | None  # a day with a stored fix that this one replays (`replays`)
    last_device_id: str | None
    assigned_village_code: str | None
    village_code: str | None
    geofence: str | None
    wifi_match: bool | None = None
    # The numbers behind `at_home_unit` (`at_office`) and `shared_device` (`shared_device`),
    # judged by the caller from the unit's office and the device's other fixes.
    at_home_unit: dict[str, Any] | None = None
    shared_device: dict[str, Any] | None = None


def at_office(
    fix: Fix, office: tuple[float, float, float] | None, workday: bool
) -> dict[str, Any] | None:
    """The numbers of `at_home_unit` when a fix of a working day lies within the office's
    radius of its point (latitude, longitude, radius_m), else None: a member called back to
    the dispatching unit (两头跑). The fix's own position, not its accuracy circle, is judged."""
    if office is None or not workday:
        return None
    latitude, longitude, radius_m = office
    metres = distance_m(fix, Fix(fix.captured_at, latitude, longitude))
    if metres > radius_m:
        return None
    return {"distance_m": round(metres, 1), "radius_m": radius_m}


def shared_device(member_ids: Iterable[int], names: Iterable[str], days: int) -> dict[str, Any]:
    """The numbers of `shared_device`: the other members (ids and names, shown to reviewers
    only) and the window."""
    return {"members": list(member_ids), "names": "、".join(names), "days": days}


def wifi_match(seen: Iterable[str] | None, registered: set[str]) -> bool | None:
    """Whether the phone saw one of the assigned village's registered access points: None when
    the village has none registered or the phone reported none."""
    seen = set(seen or ())
    if not registered or not seen:
        return None
    return not seen.isdisjoint(registered)


# Each raised flag with the numbers behind it (stored beside the fix, rendered as
# `flag_reasons` in the reader's language), in API.md's order.
Findings = dict[str, dict[str, Any]]


def judge_flags(ev: Evidence, policy: Policy) -> Findings:
    """The risk flags of a fix and their numbers. Evidence, not verdicts."""
    rules = policy.flags
    found: Findings = {}
    fix = ev.fix
    if ev.body.is_mock:
        found["mock_location"] = {}
    if ev.body.accuracy_m > policy.geofence.max_accuracy_m:
        found["low_accuracy"] = {
            "accuracy_m": ev.body.accuracy_m,
            "limit_m": policy.geofence.max_accuracy_m,
        }
    for other in (ev.previous, ev.following):
        if other is None:
            continue
        bound = _speed_kmh(distance_bound_m(other, fix), other, fix, rules.speed_min_interval_s)
        if bound <= rules.max_speed_kmh:  # no faster than this: the geodesic is not needed
            continue
        distance = distance_m(other, fix)
        speed = _speed_kmh(distance, other, fix, rules.speed_min_interval_s)
        if speed > rules.max_speed_kmh:
            found["impossible_speed"] = {
                "km": round(max(0.0, distance - other.accuracy_m - fix.accuracy_m) / 1000, 3),
                "seconds": abs((fix.captured_at - other.captured_at).total_seconds()),
                "kmh": round(speed, 1) if math.isfinite(speed) else None,
                "limit_kmh": rules.max_speed_kmh,
            }  # fmt: skip
            break
    ahead = (fix.captured_at - ev.received_at).total_seconds()
    if ahead > rules.max_clock_ahead_s:
        found["clock_skew"] = {"ahead_s": round(ahead), "limit_s": rules.max_clock_ahead_s}
    delay_h = (ev.received_at - fix.captured_at).total_seconds() / 3600
    if delay_h > rules.late_sync_hours:
        found["late_sync"] = {"hours": round(delay_h, 1), "limit_hours": rules.late_sync_hours}
    if ev.replayed_day is not None:
        found["repeated_fix"] = {
            "date": ev.replayed_day.isoformat(),
            "tolerance_m": rules.repeat_tolerance_m,
        }
    device = ev.body.device_id
    if device is not None and ev.last_device_id is not None and device != ev.last_device_id:
        found["device_change"] = {"previous": ev.last_device_id, "device": device}
    if ev.at_home_unit is not None:
        found["at_home_unit"] = ev.at_home_unit
    if ev.shared_device is not None:
        found["shared_device"] = ev.shared_device
    found.update(
        place_flags(
            ev.assigned_village_code,
            ev.village_code,
            ev.geofence,
            ev.wifi_match,
            len(ev.body.wifi or ()),
        )
    )
    return {flag: found[flag] for flag in FLAG_ORDER if flag in found}


# The flags that depend on the member's assignment of the day (and nothing else about the
# fix's history): the ones a retroactive assignment change judges again (`rejudged_flags`).
PLACE_FLAGS = ("no_assignment", "wrong_village", "wifi_mismatch")


def place_flags(
    assigned_village_code: str | None,
    village_code: str | None,
    geofence: str | None,
    wifi_match: bool | None,
    wifi_seen: int,
) -> Findings:
    """The flags of where a fix lies against the member's assigned village of its day."""
    found: Findings = {}
    if assigned_village_code is None:
        found["no_assignment"] = {}
    elif (
        geofence == "outside" and village_code is not None and village_code != assigned_village_code
    ):
        found["wrong_village"] = {
            "village_code": village_code,
            "assigned_village_code": assigned_village_code,
        }
    if wifi_match is False and geofence in ("inside", "near"):
        # Evidence, not a verdict: the phone claims the village but hears none of its known
        # access points while hearing others.
        found["wifi_mismatch"] = {"seen": wifi_seen}
    return found


def rejudged_flags(
    stored: Iterable[str], evidence: dict[str, Any] | None, place: Findings
) -> Findings:
    """A stored fix's flags with those of its place judged again: the flags of its history
    (speed, clock, device, …) stay as judged on arrival, the place flags are `place`'s."""
    found: Findings = {
        flag: (evidence or {}).get(flag, {}) for flag in stored if flag not in PLACE_FLAGS
    }
    found.update(place)
    return {flag: found[flag] for flag in FLAG_ORDER if flag in found}


def is_credited(flags: list[str], geofence: str | None, accuracy_m: float, policy: Policy) -> bool:
    """Counts toward the day: inside or near the assigned village, accurate enough, and no
    flag that the policy treats as disqualifying."""
    return (
        geofence in ("inside", "near")
        and accuracy_m <= policy.geofence.max_accuracy_m
        and not any(f in policy.flags.uncredited for f in flags)
    )
