"""Check-in bodies that are valid but for at most one thing.

Arbitrary JSON (test_fuzz.py) almost never makes a valid body, so it never reaches what comes
after validation. Here every body starts valid — a position inside, near or outside the
member's village, in WGS84 or GCJ-02, taken within the window, with the optional fields
sometimes set — and then at most one thing is made wrong: a value out of range, of the wrong
type, a malformed or out-of-window time, a field left out. A valid body must be stored,
judged, chained and counted in the ledger; a body with one fault must be refused alone, with
its own problem code, and store nothing.

`--hypothesis-show-statistics` prints how the examples split (valid by geofence, fault by
field), e.g. `pytest tests/checkins/test_fuzz_one_fault.py --hypothesis-show-statistics`.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.checkins.models import ChainHead, CheckIn
from app.ledger.models import PresenceDay
from tests.world import centre

HOME = "430121001001"  # alice's village
_ZONES = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]


@st.composite
def valid_bodies(draw: st.DrawFn) -> dict[str, Any]:
    lon, lat = centre(HOME)
    # Inside (the village is 0.02° square), near it, or well away.
    dlon = draw(st.sampled_from([0.0, 0.004, -0.0095, 0.0103, 0.013, 0.2]))
    dlat = draw(st.floats(min_value=-0.009, max_value=0.009))
    ago = draw(st.integers(min_value=60, max_value=29 * 24 * 3600))
    zone = draw(st.sampled_from(_ZONES))
    captured = (datetime.now(UTC) - timedelta(seconds=ago)).astimezone(zone)
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "captured_at": captured.isoformat(),
        "latitude": lat + dlat,
        "longitude": lon + dlon,
        "accuracy_m": draw(st.floats(min_value=1, max_value=300)),
        "coord_system": draw(st.sampled_from(["wgs84", "gcj02"])),
    }
    optional = {
        "altitude_m": st.floats(min_value=-1000, max_value=10_000),
        "speed_mps": st.floats(min_value=0, max_value=40),
        "heading_deg": st.floats(min_value=0, max_value=360),
        "provider": st.sampled_from(["gps", "network", "wifi", "fused", "unknown"]),
        "is_mock": st.booleans(),
        "device_id": st.text(
            st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20
        ),
        "wifi": st.lists(
            st.fixed_dictionaries(
                {"bssid": st.sampled_from(["aa:bb:cc:dd:ee:01", "AA-BB-CC-DD-EE-02"])},
                optional={"rssi": st.integers(min_value=-127, max_value=0)},
            ),
            max_size=3,
        ),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            body[name] = draw(strategy)
    return body


def _now_shifted(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


# Each field's wrong values, with the problem code they must get.
FAULTS: dict[str, tuple[str, list[Any]]] = {
    "latitude": ("validation_error", [90.0001, -91, "28.3", True, None, 1e308]),
    "longitude": ("validation_error", [180.5, -181, "113", False]),
    "accuracy_m": ("validation_error", [0, -1, 100_001, "10", None]),
    "altitude_m": ("validation_error", [-1001, 10_001, "1"]),
    "speed_mps": ("validation_error", [-0.1, 501, 1e308]),
    "heading_deg": ("validation_error", [-1, 360.5, 99999]),
    "captured_at": (
        "validation_error",
        ["2026-11-29T10:00:00", "2026-13-01T00:00:00Z", 1_700_000_000, "yesterday", ""],
    ),
    "client_id": ("validation_error", ["not-a-uuid", "", 123, None]),
    "coord_system": ("validation_error", ["bd09x", "", 1]),
    "is_mock": ("validation_error", ["yes", 1, "true"]),
    "provider": ("validation_error", ["satellite", ""]),
    "device_id": ("validation_error", ["", "x" * 129, "a\x00b"]),
    "roll_call_id": ("validation_error", ["", "x" * 65]),
    "wifi": (
        "validation_error",
        [[{"bssid": "zz"}], "aa:bb", [{"bssid": "aa:bb:cc:dd:ee:ff", "rssi": 5}]],
    ),
}
REQUIRED = ["client_id", "captured_at", "latitude", "longitude", "accuracy_m"]


@st.composite
def one_fault(draw: st.DrawFn) -> tuple[dict[str, Any], str | None, str]:
    """(body, expected problem code or None for a valid body, what was done)."""
    body = draw(valid_bodies())
    kind = draw(st.sampled_from(["valid", "valid", "value", "missing", "window"]))
    if kind == "valid":
        return body, None, "valid"
    if kind == "missing":
        name = draw(st.sampled_from(REQUIRED))
        del body[name]
        return body, "validation_error", f"missing {name}"
    if kind == "window":
        late = draw(st.booleans())
        body["captured_at"] = _now_shifted(days=-31) if late else _now_shifted(hours=25)
        return body, "too_old" if late else "in_future", "too old" if late else "in future"
    name = draw(st.sampled_from(sorted(FAULTS)))
    code, values = FAULTS[name]
    body[name] = draw(st.sampled_from(values))
    return body, code, f"bad {name}"


def _alice(world: Any) -> tuple[int, dict[str, str]]:
    """Her member id and headers, read before the request: the test's session must hold no
    transaction while the app writes (SQLite), and touching an expired object would open one."""
    member_id, headers = world.members["alice"].id, world.headers("alice")
    world.db.rollback()
    return member_id, headers


def _counts(db: Any, member_id: int) -> tuple[int, int, int]:
    db.rollback()  # a fresh snapshot: the app wrote through its own session
    stored = db.scalar(
        select(func.count()).select_from(CheckIn).where(CheckIn.member_id == member_id)
    )
    days = db.scalar(
        select(func.count()).select_from(PresenceDay).where(PresenceDay.member_id == member_id)
    )
    head = db.scalar(select(ChainHead.seq).where(ChainHead.member_id == member_id))
    db.rollback()  # SQLite: an open transaction here would hold the write lock
    return stored or 0, days or 0, head or 0


suppress = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(
    max_examples=int(os.environ.get("ZHUCUN_FUZZ_EXAMPLES", 120)),
    deadline=None,
    suppress_health_check=suppress,
)
@given(case=one_fault())
def test_a_body_with_one_fault_is_refused_alone_and_a_valid_one_is_stored(world, case):
    body, code, what = case
    member_id, headers = _alice(world)
    before = _counts(world.db, member_id)
    r = world.client.post("/api/v1/checkins", json=body, headers=headers)
    after = _counts(world.db, member_id)
    if code is None:
        assert r.status_code == 201, r.text
        stored = r.json()
        event(
            f"valid: {stored['geofence']}, {'credited' if stored['credited'] else 'not credited'}"
        )
        assert stored["assigned_village_code"] == HOME
        assert after[0] == before[0] + 1  # stored
        assert after[2] == before[2] + 1  # chained
        if stored["credited"]:
            counted = world.db.scalar(
                select(PresenceDay.counted_checkins).where(
                    PresenceDay.member_id == member_id,
                    PresenceDay.day == date.fromisoformat(stored["local_date"]),
                )
            )
            world.db.rollback()
            assert counted is not None
            assert counted >= 1  # counted in the ledger
    else:
        event(f"fault: {what}")
        assert r.status_code == 422, (what, r.status_code, r.text)
        assert r.json()["code"] == code, (what, r.text)
        assert after == before, what  # nothing stored, nothing chained, no ledger change


@settings(
    max_examples=int(os.environ.get("ZHUCUN_FUZZ_EXAMPLES", 120)) // 3,
    deadline=None,
    suppress_health_check=suppress,
)
@given(cases=st.lists(one_fault(), min_size=1, max_size=6))
def test_a_batch_stores_its_valid_items_and_refuses_each_faulty_one_alone(world, cases):
    member_id, headers = _alice(world)
    before = _counts(world.db, member_id)
    items = [body for body, _, _ in cases]
    r = world.client.post("/api/v1/checkins/batch", json={"items": items}, headers=headers)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(cases)
    for (_, code, what), result in zip(cases, results, strict=True):
        if code is None:
            assert result["status"] == "created", (what, result)
        else:
            assert result["status"] == "rejected", (what, result)
            assert result["error"]["code"] == code, (what, result)
    valid = sum(code is None for _, code, _ in cases)
    event(f"batch: {valid} valid of {len(cases)}")
    after = _counts(world.db, member_id)
    assert after[0] == before[0] + valid
    assert after[2] == before[2] + valid
