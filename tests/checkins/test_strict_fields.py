"""Strict types and physical ranges on check-in fields (issue 11, defect 8): a broken or
forged value is refused with the field named, never stored."""

from __future__ import annotations

from sqlalchemy import func, select

from app.checkins.models import CheckIn
from tests.checkins.helpers import fix

REFUSED = [
    ("is_mock", "yes"),
    ("is_mock", "true"),
    ("is_mock", 1),
    ("is_mock", None),
    ("accuracy_m", 1e308),
    ("accuracy_m", 100_001),
    ("accuracy_m", 0),
    ("heading_deg", 99999),
    ("heading_deg", -1),
    ("heading_deg", 360.5),
    ("speed_mps", -1e308),
    ("speed_mps", -1),
    ("speed_mps", 501),
    ("altitude_m", 1e308),
    ("altitude_m", -1e308),
    ("latitude", True),
    ("longitude", "113.0"),
]

ACCEPTED = [
    ("is_mock", False),
    ("accuracy_m", 100_000),
    ("heading_deg", 0),
    ("heading_deg", 360),
    ("speed_mps", 0),
    ("speed_mps", 500),
    ("altitude_m", -400),
    ("altitude_m", 8848.9),
]


def test_out_of_range_or_loosely_typed_fields_are_refused_and_not_stored(world, db):
    wrong = {}
    for field, value in REFUSED:
        r = world.post("alice", "/checkins", json=fix(**{field: value}))
        body = r.json()
        locs = [e["loc"][-1] for e in body.get("errors", [])]
        if r.status_code != 422 or body["code"] != "validation_error" or field not in locs:
            wrong[(field, value)] = (r.status_code, r.text[:200])
    assert not wrong
    assert db.scalar(select(func.count()).select_from(CheckIn)) == 0


def test_values_at_the_ends_of_the_ranges_are_accepted(world):
    for field, value in ACCEPTED:
        r = world.post("alice", "/checkins", json=fix(**{field: value}))
        assert r.status_code == 201, (field, value, r.text)


def test_mock_true_is_flagged(world):
    r = world.post("alice", "/checkins", json=fix(is_mock=True))
    assert r.status_code == 201
    assert "mock_location" in r.json()["flags"]


def test_batch_items_are_held_to_the_same_ranges(world):
    r = world.post(
        "alice",
        "/checkins/batch",
        json={"items": [fix(speed_mps=-1e308), fix(is_mock="yes"), fix()]},
    )
    assert r.status_code == 200
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "rejected", "created"]
