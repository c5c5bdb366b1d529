"""A phone's clock can say anything (issue 18, item 2): whatever instant `captured_at` names,
the answer is the fix stored or a 422 `too_old` / `in_future`, never a 500; and in a batch one
such item is rejected alone while the others are stored.

The property tests draw instants from year 1 to 9999 with offsets up to ±23:59, the edges of
the calendar included (the year 9999 in an offset ahead of UTC is where Asia/Shanghai's local
date overflowed), and judge each against the window the answer must follow."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.checkins.models import CheckIn
from tests.checkins.helpers import fix
from tests.extremes import instants

MAX_AGE = timedelta(days=30)  # the policy's defaults (API.md)
MAX_AHEAD = timedelta(hours=24)
MARGIN = timedelta(minutes=5)  # an instant this near a window's edge may go either way


def _stored(db: Any, client_ids: list[str]) -> dict[str, int]:
    db.rollback()
    rows = db.execute(
        select(CheckIn.client_id, func.count())
        .where(CheckIn.client_id.in_(client_ids))
        .group_by(CheckIn.client_id)
    ).all()
    db.rollback()  # SQLite: hold no transaction while the app writes
    return {str(client_id): int(n) for client_id, n in rows}


def test_year_9999_is_in_the_future_not_a_500(world, db):
    """The reproducer: 9999-12-31T23:59:59Z overflowed converting to Asia/Shanghai."""
    for value in ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999+00:00"):
        r = world.post("alice", "/checkins", json=fix(captured_at=value))
        assert (r.status_code, r.json()["code"]) == (422, "in_future"), r.text
    assert _stored(db, []) == {}


def test_instants_utc_cannot_hold_are_out_of_the_window_not_malformed(world):
    # Year 1 ahead of UTC is before year 1 in UTC; year 9999 behind it is after 9999.
    for value, code in (
        ("0001-01-01T00:00:00+23:59", "too_old"),
        ("0001-01-01T05:00:00+08:00", "too_old"),
        ("9999-12-31T23:59:59-23:59", "in_future"),
        ("9999-12-31T20:00:00+08:00", "in_future"),
    ):
        r = world.post("alice", "/checkins", json=fix(captured_at=value))
        assert (r.status_code, r.json()["code"]) == (422, code), (value, r.text)


def test_one_bad_clock_does_not_fail_the_batch(world, db):
    """The reproducer: one such item made the whole batch a 500 and stored nothing."""
    good = [fix(ago=timedelta(minutes=30 - k)) for k in range(3)]
    bad = fix(captured_at="9999-12-31T23:59:59Z")
    items = [good[0], bad, good[1], good[2]]
    r = world.post("alice", "/checkins/batch", json={"items": items})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["created", "rejected", "created", "created"]
    assert results[1]["error"]["code"] == "in_future"
    assert results[1]["client_id"] == bad["client_id"]
    ids = [b["client_id"] for b in items]
    assert _stored(db, ids) == {b["client_id"]: 1 for b in good}


def test_batch_item_errors_are_the_problems_a_lone_request_gets(world):
    """Issue 18, item 6: `results[].error` is a full problem (type, title, status, detail,
    code, errors, request_id), the body a lone POST /checkins of the item answers."""
    invalid = fix(latitude=123)
    old = fix(ago=timedelta(days=40))
    headers = world.headers("alice", **{"Accept-Language": "en", "X-Request-ID": "batch-1"})
    r = world.client.post("/api/v1/checkins/batch", json={"items": [invalid, old]}, headers=headers)
    assert r.status_code == 200, r.text
    first, second = (x["error"] for x in r.json()["results"])
    lone = world.client.post(
        "/api/v1/checkins", json=old, headers={**headers, "X-Request-ID": "lone-1"}
    ).json()
    assert second == {**lone, "request_id": "batch-1"}
    assert set(second) == {"type", "title", "status", "detail", "code", "request_id"}
    assert second["type"].endswith("/too_old")
    assert set(first) == {"type", "title", "status", "detail", "code", "errors", "request_id"}
    assert first["code"] == "validation_error"
    assert first["errors"][0]["loc"] == ["body", "items", "0", "latitude"]
    assert first["request_id"] == "batch-1"


# ----------------------------------------------------------------------- the property tests


def _expected(utc: datetime | None, text: str) -> set[str]:
    """What the window makes of the instant: "stored", "too_old", "in_future" (both sides of
    an edge when it is too near to call)."""
    if utc is None:
        return {"too_old"} if text.startswith("0001") else {"in_future"}
    now = datetime.now(UTC)
    out = set()
    if utc < now - MAX_AGE + MARGIN:
        out.add("too_old")
    if utc > now + MAX_AHEAD - MARGIN:
        out.add("in_future")
    if now - MAX_AGE - MARGIN < utc < now + MAX_AHEAD + MARGIN:
        out.add("stored")
    return out


def _outcome(status: int, body: dict[str, Any]) -> str:
    if status in (200, 201):
        return "stored"
    assert status == 422, (status, body)
    return str(body["code"])


EXAMPLES = int(os.environ.get("ZHUCUN_FUZZ_EXAMPLES", 120))
_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_settings
@given(case=instants())
def test_any_instant_is_stored_or_out_of_the_window(world, case):
    text, utc = case
    body = fix(captured_at=text)
    headers = world.headers("alice")
    world.db.rollback()
    r = world.client.post("/api/v1/checkins", json=body, headers=headers)
    outcome = _outcome(r.status_code, r.json())
    assert outcome in _expected(utc, text), (text, r.text)


@settings(_settings, max_examples=max(EXAMPLES // 3, 10))
@given(cases=st.lists(instants(), min_size=1, max_size=5))
def test_a_batch_stores_its_good_items_whatever_clocks_the_others_have(world, cases):
    good = fix(ago=timedelta(minutes=1))
    bodies = [fix(captured_at=text) for text, _ in cases]
    items = [*bodies[:1], good, *bodies[1:]]
    headers = world.headers("alice")
    world.db.rollback()
    r = world.client.post("/api/v1/checkins/batch", json={"items": items}, headers=headers)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[1]["status"] == "created"
    for (text, utc), result in zip(cases, [results[0], *results[2:]], strict=True):
        if result["status"] == "rejected":
            assert result["error"]["status"] == 422, result
            outcome = result["error"]["code"]
        else:
            outcome = "stored"
        assert outcome in _expected(utc, text), (text, result)
    stored = _stored(world.db, [b["client_id"] for b in items])
    assert stored[good["client_id"]] == 1
    assert all(n == 1 for n in stored.values())
    assert len(stored) == sum(x["status"] == "created" for x in results)
