"""Arbitrary JSON to the upload routes: a 4xx problem or a success, never a 5xx."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def plausible() -> st.SearchStrategy[dict]:
    """Bodies near a valid one: each field either sensible or arbitrary, some left out."""
    now = datetime.now(UTC)
    sensible = {
        "client_id": st.builds(lambda: str(uuid.uuid4())),
        "captured_at": st.sampled_from(
            [
                now.isoformat(),
                "2026-01-01T00:00:00+08:00",
                "0001-01-01T00:00:00+14:00",
                "9999-12-31T23:59:59-12:00",
                "2026-13-45T25:61:61Z",
            ]
        ),
        "latitude": st.floats(min_value=-90, max_value=90),
        "longitude": st.floats(min_value=-180, max_value=180),
        "coord_system": st.sampled_from(["wgs84", "gcj02", "bd09"]),
        "accuracy_m": st.floats(min_value=1e-300, max_value=1e300),
        "is_mock": st.booleans(),
        "device_id": st.text(max_size=20),
        "roll_call_id": st.text(max_size=20),
        "provider": st.sampled_from(["gps", "wifi", "x"]),
    }
    fields = {name: st.one_of(s, json_values) for name, s in sensible.items()}
    return st.fixed_dictionaries({}, optional=fields)


body_strategy = st.one_of(json_values, plausible())
suppress = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=60, deadline=None, suppress_health_check=suppress)
@given(body=body_strategy)
def test_no_5xx_from_post_checkins(world, body):
    r = world.post("alice", "/checkins", json=body)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"]


@settings(max_examples=40, deadline=None, suppress_health_check=suppress)
@given(
    batch=st.one_of(
        json_values, st.fixed_dictionaries({"items": st.lists(body_strategy, max_size=5)})
    )
)
def test_no_5xx_from_post_checkins_batch(world, batch):
    r = world.post("alice", "/checkins/batch", json=batch)
    assert r.status_code < 500, r.text
    if r.status_code == 200:
        assert len(r.json()["results"]) == len(batch["items"])
