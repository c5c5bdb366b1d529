"""Pure check-in rules: the time window, risk flags, credit, and the canonical forms that
idempotency and the hash chain are computed over. No database here."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, get_args

from pyproj import Geod

from app.audit.rules import GENESIS_HASH as GENESIS_HASH  # the chain hashing is audit's
from app.checkins.errors import InFuture, TooOld
from app.checkins.schemas import CheckInCreate
from app.core.policy import Flag, FlagPolicy, Policy
from app.core.time import as_utc

FLAG_ORDER: tuple[str, ...] = get_args(Flag)
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True)
class Fix:
    """Where and when a member was, as far as the speed check needs."""

    captured_at: datetime
    latitude: float
    longitude: float


def check_window(captured_at: datetime, received_at: datetime, rules: FlagPolicy) -> None:
    """Refuse fixes too old to accept or too far in the future (flags cover the rest)."""
    if captured_at < received_at - timedelta(days=rules.max_age_days):
        raise TooOld(max_age_days=rules.max_age_days)
    if captured_at > received_at + timedelta(hours=rules.max_future_hours):
        raise InFuture(max_future_hours=f"{rules.max_future_hours:g}")


def speed_kmh(a: Fix, b: Fix) -> float:
    """Implied ground speed between two fixes; infinite when they differ in place only."""
    metres = float(_GEOD.inv(a.longitude, a.latitude, b.longitude, b.latitude)[2])
    seconds = abs((b.captured_at - a.captured_at).total_seconds())
    if seconds == 0:
        return math.inf if metres > 0 else 0.0
    return metres / seconds * 3.6


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the flags are judged from, gathered by the service."""

    body: CheckInCreate
    received_at: datetime
    fix: Fix
    previous: Fix | None  # the member's fix just before, in capture order
    following: Fix | None  # just after (the new fix is a late upload)
    repeated: bool  # same coordinates as a stored fix of the member on another day
    last_device_id: str | None
    assigned_village_code: str | None
    village_code: str | None
    geofence: str | None


def flags_for(ev: Evidence, policy: Policy) -> list[str]:
    """The risk flags of a fix, in API.md's order. Evidence, not verdicts."""
    rules = policy.flags
    found: set[str] = set()
    if ev.body.is_mock:
        found.add("mock_location")
    if ev.body.accuracy_m > policy.geofence.max_accuracy_m:
        found.add("low_accuracy")
    if any(
        other is not None and speed_kmh(other, ev.fix) > rules.max_speed_kmh
        for other in (ev.previous, ev.following)
    ):
        found.add("impossible_speed")
    if (ev.fix.captured_at - ev.received_at).total_seconds() > rules.max_clock_ahead_s:
        found.add("clock_skew")
    if (ev.received_at - ev.fix.captured_at).total_seconds() > rules.late_sync_hours * 3600:
        found.add("late_sync")
    if ev.repeated:
        found.add("repeated_fix")
    device = ev.body.device_id
    if device is not None and ev.last_device_id is not None and device != ev.last_device_id:
        found.add("device_change")
    if ev.assigned_village_code is None:
        found.add("no_assignment")
    elif (
        ev.geofence == "outside"
        and ev.village_code is not None
        and ev.village_code != ev.assigned_village_code
    ):
        found.add("wrong_village")
    return [f for f in FLAG_ORDER if f in found]


def is_credited(flags: list[str], geofence: str | None, accuracy_m: float, policy: Policy) -> bool:
    """Counts toward the day: inside or near the assigned village, accurate enough, and no
    flag that the policy treats as disqualifying."""
    return (
        geofence in ("inside", "near")
        and accuracy_m <= policy.geofence.max_accuracy_m
        and not any(f in policy.flags.uncredited for f in flags)
    )


def body_hash(body: CheckInCreate) -> str:
    """sha256 of the parsed body in canonical form: defaults filled, instants in UTC.

    Two bodies that parse to the same values (another offset for the same instant, a default
    left out, a UUID in capitals) hash alike: the JSON is the model's own serialisation, in
    its field order, whatever the order and spelling of the request.
    """
    return hashlib.sha256(body.model_dump_json().encode("utf-8")).hexdigest()


# What a chain link covers: every stored column but the database id, in a fixed order.
CHAIN_FIELDS: tuple[tuple[str, str], ...] = (
    ("member_id", "int"),
    ("seq", "int"),
    ("client_id", "str"),
    ("captured_at", "datetime"),
    ("received_at", "datetime"),
    ("local_date", "date"),
    ("latitude", "float"),
    ("longitude", "float"),
    ("raw_latitude", "float"),
    ("raw_longitude", "float"),
    ("coord_system", "str"),
    ("accuracy_m", "float"),
    ("altitude_m", "float"),
    ("speed_mps", "float"),
    ("heading_deg", "float"),
    ("provider", "str"),
    ("is_mock", "bool"),
    ("device_id", "str"),
    ("roll_call_id", "str"),
    ("village_code", "str"),
    ("assigned_village_code", "str"),
    ("boundary_id", "int"),
    ("geofence", "str"),
    ("distance_m", "float"),
    ("credited", "bool"),
    ("flags", "str"),
    ("body_hash", "str"),
    ("prev_hash", "str"),
)


def _canonical(value: Any, kind: str) -> str:
    # Explicit per kind, so that what either backend hands back (SQLite: naive datetimes,
    # ints for booleans) encodes exactly as what was written.
    if value is None:
        return "null"
    if kind == "str":
        text = str(value)
        return f"{len(text)}:{text}"  # length-prefixed: no value can fake a field boundary
    if kind == "float":
        return repr(float(value))
    if kind == "int":
        return str(int(value))
    if kind == "bool":
        return "true" if value else "false"
    if kind == "datetime":
        t = value if value.tzinfo is UTC else as_utc(value)
        return (
            f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:"
            f"{t.second:02d}.{t.microsecond:06d}Z"
        )
    assert isinstance(value, date), kind
    return value.isoformat()


def row_hash(row: Mapping[str, Any]) -> str:
    """The chain hash of a check-in row: sha256 over its canonical content (with `seq` and
    `prev_hash`), independent of the database id and of the backend."""
    text = "\n".join(f"{name}={_canonical(row[name], kind)}" for name, kind in CHAIN_FIELDS)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
