"""client_id idempotency, and POST /checkins/batch."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select

from app.checkins.models import CheckIn
from tests.checkins.helpers import fix

SHANGHAI = timezone(timedelta(hours=8))


def count(db) -> int:
    n = db.scalar(select(func.count()).select_from(CheckIn))
    db.commit()
    return n


def test_the_same_body_again_answers_200_with_the_same_checkin(world, db):
    body = fix()
    first = world.post("alice", "/checkins", json=body)
    again = world.post("alice", "/checkins", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert count(db) == 1


def test_the_same_instant_with_another_offset_and_a_default_left_out_is_the_same(world, db):
    at = datetime.now(UTC).replace(microsecond=250000) - timedelta(minutes=3)
    body = fix(at=at, coord_system="wgs84", latitude=28.31, accuracy_m=12)
    first = world.post("alice", "/checkins", json=body)
    other = {
        **body,
        "captured_at": at.astimezone(SHANGHAI).isoformat(),
        "client_id": body["client_id"].upper(),
        "accuracy_m": 12.0,
    }
    del other["coord_system"]
    again = world.post("alice", "/checkins", json=other)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json()
    assert count(db) == 1


def test_a_different_body_under_the_same_client_id_is_a_conflict(world, db):
    body = fix()
    world.post("alice", "/checkins", json=body)
    for change in ({"latitude": body["latitude"] + 0.001}, {"is_mock": True}, {"device_id": "x"}):
        r = world.post("alice", "/checkins", json={**body, **change})
        assert (r.status_code, r.json()["code"]) == (409, "idempotency_conflict")
    assert count(db) == 1


def test_client_ids_are_per_member(world, db):
    body = fix("430121001002")
    assert world.post("alice", "/checkins", json=body).status_code == 201
    assert world.post("bob", "/checkins", json=body).status_code == 201
    assert count(db) == 2


def test_a_batch_answers_in_input_order_and_rejects_bad_items_alone(world, db):
    t = datetime.now(UTC) - timedelta(hours=5)
    stored = fix(at=t)
    assert world.post("alice", "/checkins", json=stored).status_code == 201
    fresh = [fix(at=t + timedelta(minutes=10 * k)) for k in range(1, 4)]
    items = [
        fresh[0],
        stored,  # sent before: duplicate
        {**fresh[1], "latitude": 123},  # invalid
        {**stored, "accuracy_m": 99},  # same client_id, other body
        fresh[1],
        fix(ago=timedelta(days=40)),  # too old
        "not an object",
        fresh[2],
        fresh[0],  # repeated inside the batch
    ]
    r = world.post("alice", "/checkins/batch", json={"items": items})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [
        "created", "duplicate", "rejected", "rejected", "created", "rejected", "rejected",
        "created", "duplicate",
    ]  # fmt: skip
    assert [x["client_id"] for x in results[:6]] == [
        fresh[0]["client_id"], stored["client_id"], fresh[1]["client_id"],
        stored["client_id"], fresh[1]["client_id"], items[5]["client_id"],
    ]  # fmt: skip
    assert results[6]["client_id"] is None
    codes = [x["error"]["code"] if x["error"] else None for x in results]
    assert codes == [
        None, None, "validation_error", "idempotency_conflict", None, "too_old",
        "validation_error", None, None,
    ]  # fmt: skip
    assert results[2]["error"]["errors"][0]["loc"][-1] == "latitude"
    assert results[2]["error"]["status"] == 422
    assert results[2]["checkin"] is None
    assert results[8]["checkin"] == results[0]["checkin"]
    assert results[1]["checkin"]["client_id"] == stored["client_id"]
    assert count(db) == 4

    again = world.post("alice", "/checkins/batch", json={"items": fresh}).json()["results"]
    assert [x["status"] for x in again] == ["duplicate"] * 3
    assert [x["checkin"]["id"] for x in again] == [
        results[0]["checkin"]["id"], results[4]["checkin"]["id"], results[7]["checkin"]["id"]
    ]  # fmt: skip
    assert count(db) == 4


def test_a_batch_is_judged_as_if_sent_one_by_one(world, db):
    """Flags that depend on earlier fixes see the batch's own earlier items."""
    t = datetime.now(UTC) - timedelta(hours=6)
    spot = {"latitude": 28.3111111, "longitude": 113.0111111, "altitude_m": 50.0}
    items = [
        fix(at=t - timedelta(days=1), device_id="a", **spot),
        fix(at=t, device_id="a", **spot),  # repeated_fix (yesterday's spot)
        fix(at=t + timedelta(seconds=20), device_id="b", dlon=0.03),  # far, fast, new device
        fix(at=t + timedelta(seconds=10)),  # between two far-apart fixes: too fast
    ]
    results = world.post("alice", "/checkins/batch", json={"items": items}).json()["results"]
    flags = [x["checkin"]["flags"] for x in results]
    assert flags[0] == []
    assert flags[1] == ["repeated_fix"]
    assert flags[2] == ["impossible_speed", "device_change", "wrong_village"]
    assert flags[3] == ["impossible_speed"]
    seqs = sorted(r.seq for r in db.scalars(select(CheckIn)))
    db.commit()
    assert seqs == [1, 2, 3, 4]


def test_a_batch_over_500_items_is_refused(world, db):
    items = [fix() for _ in range(501)]
    r = world.post("alice", "/checkins/batch", json={"items": items})
    assert (r.status_code, r.json()["code"]) == (422, "batch_too_large")
    ok = world.post("alice", "/checkins/batch", json={"items": items[:500]})
    assert ok.status_code == 200
    assert {x["status"] for x in ok.json()["results"]} == {"created"}
    assert count(db) == 500


def test_a_batch_is_for_members_and_needs_items(world):
    assert world.post("township1", "/checkins/batch", json={"items": []}).status_code == 403
    r = world.post("alice", "/checkins/batch", json={"things": []})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    assert world.post("alice", "/checkins/batch", json={"items": []}).json() == {"results": []}


def test_a_rejected_items_client_id_is_echoed_only_when_it_is_sane(world):
    items = [{"client_id": "x" * 100}, {"client_id": 5}, {"client_id": str(uuid.uuid4())}]
    results = world.post("alice", "/checkins/batch", json={"items": items}).json()["results"]
    assert [x["client_id"] for x in results] == [None, None, items[2]["client_id"]]
