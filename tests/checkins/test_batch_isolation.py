"""A batch never fails as a whole because of one item, whatever the item's fault (issue 18,
item 2): an item the database refuses to store, or one our own code fails on, is rejected
alone with a 500 `internal_error` problem, and the batch's other items are stored exactly
once, chained and counted, as if the bad item had never been sent.

The database's refusal is real: a trigger on `checkins` that raises for one client_id, on
SQLite and on PostgreSQL, where the error aborts the batch's whole transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, text

from app.checkins import rules
from app.checkins.audit import verify_chains
from app.checkins.models import CheckIn
from app.ledger import service as ledger
from app.ledger.models import PresenceDay
from tests.checkins.helpers import fix
from tests.ledger.support import ledger_rows

POISONED = str(uuid.uuid4())


@pytest.fixture
def poison(engine: Engine, backend: str) -> Iterator[None]:
    """The database refuses to store the fix whose client_id is POISONED."""
    if backend == "postgis":
        make = [
            "CREATE FUNCTION zhucun_test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF NEW.client_id = '{POISONED}' THEN RAISE EXCEPTION 'poisoned fix'; "
            "END IF; RETURN NEW; END $$",
            "CREATE TRIGGER zhucun_test_poison BEFORE INSERT ON checkins FOR EACH ROW "
            "EXECUTE FUNCTION zhucun_test_poison()",
        ]
        drop = [
            "DROP TRIGGER IF EXISTS zhucun_test_poison ON checkins",
            "DROP FUNCTION IF EXISTS zhucun_test_poison()",
        ]
    else:
        make = [
            "CREATE TRIGGER zhucun_test_poison BEFORE INSERT ON checkins "
            f"WHEN NEW.client_id = '{POISONED}' BEGIN SELECT RAISE(ABORT, 'poisoned fix'); END"
        ]
        drop = ["DROP TRIGGER IF EXISTS zhucun_test_poison"]
    with engine.begin() as conn:
        for statement in make:
            conn.execute(text(statement))
    try:
        yield
    finally:  # PostGIS: the database outlives the test
        with engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))


def _batch(poisoned_at: int, good: int = 6) -> tuple[list[dict[str, Any]], list[str]]:
    """`good` fixes of one morning (a track: the batch's save then waits for the replay scan
    before its COMMIT) with the poisoned one at `poisoned_at`."""
    start = datetime.now(UTC) - timedelta(hours=3)
    items = [
        fix(at=start + timedelta(minutes=10 * k), altitude_m=40.0 + k, speed_mps=1.0)
        for k in range(good)
    ]
    items.insert(poisoned_at, {**fix(at=start + timedelta(minutes=5)), "client_id": POISONED})
    return items, [b["client_id"] for b in items if b["client_id"] != POISONED]


def _assert_stored_once(db: Any, member_id: int, client_ids: list[str], policy: Any) -> None:
    db.rollback()
    rows = db.scalars(select(CheckIn).where(CheckIn.member_id == member_id)).all()
    assert sorted(r.client_id for r in rows) == sorted(client_ids)  # each once, nothing else
    assert sorted(r.seq for r in rows) == list(range(1, len(client_ids) + 1))  # no gap
    assert verify_chains(db).intact
    incremental = ledger_rows(db)
    db.execute(delete(PresenceDay))
    ledger.rebuild(db, policy)
    db.commit()
    assert ledger_rows(db) == incremental
    db.rollback()  # SQLite: hold no lock past the test (the trigger is dropped after it)


def _post_batch(world: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    headers = world.headers("alice", **{"X-Request-ID": "batch-poison"})
    world.db.rollback()
    r = world.client.post("/api/v1/checkins/batch", json={"items": items}, headers=headers)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


@pytest.mark.parametrize("position", [0, 3, 6])
def test_an_item_the_database_refuses_is_rejected_alone(world, db, policy, poison, position):
    items, good = _batch(position)
    results = _post_batch(world, items)

    statuses = ["created"] * len(items)
    statuses[position] = "rejected"
    assert [x["status"] for x in results] == statuses
    assert [x["client_id"] for x in results] == [b["client_id"] for b in items]
    problem = results[position]["error"]
    assert (problem["status"], problem["code"]) == (500, "internal_error")
    assert problem["request_id"] == "batch-poison"
    assert {"type", "title", "detail"} <= set(problem)
    assert results[position]["checkin"] is None
    member_id = world.members["alice"].id
    _assert_stored_once(db, member_id, good, policy)
    # The stored items' answers are the stored rows.
    answered = {x["checkin"]["id"] for x in results if x["checkin"]}
    assert answered == set(db.scalars(select(CheckIn.id).where(CheckIn.member_id == member_id)))
    db.rollback()


def test_the_phone_resends_the_rejected_item_and_it_is_stored_once(
    world, db, policy, poison, engine, backend
):
    items, good = _batch(2)
    _post_batch(world, items)
    with engine.begin() as conn:  # the fault is mended
        conn.execute(
            text(
                "DROP TRIGGER zhucun_test_poison ON checkins"
                if backend == "postgis"
                else "DROP TRIGGER zhucun_test_poison"
            )
        )
    again = _post_batch(world, items)
    expected = ["duplicate"] * len(items)
    expected[2] = "created"
    assert [x["status"] for x in again] == expected
    _assert_stored_once(db, world.members["alice"].id, [*good, POISONED], policy)


def test_an_item_our_code_fails_on_is_rejected_alone(world, db, policy, monkeypatch):
    real = rules.judge_flags

    def judge_flags(evidence: rules.Evidence, policy: Any) -> Any:
        if str(evidence.body.client_id) == POISONED:
            raise RuntimeError("a defect met by one fix")
        return real(evidence, policy)

    monkeypatch.setattr(rules, "judge_flags", judge_flags)
    items, good = _batch(4)
    results = _post_batch(world, items)
    assert [x["status"] for x in results].count("created") == len(good)
    assert results[4]["status"] == "rejected"
    assert (results[4]["error"]["status"], results[4]["error"]["code"]) == (500, "internal_error")
    _assert_stored_once(db, world.members["alice"].id, good, policy)


def test_an_item_that_cannot_be_prepared_is_rejected_alone(world, db, policy, monkeypatch):
    from app.checkins import hashing

    real = hashing.body_hash

    def body_hash(body: Any) -> str:
        if str(body.client_id) == POISONED:
            raise RuntimeError("a defect met by one fix")
        return real(body)

    monkeypatch.setattr(hashing, "body_hash", body_hash)
    items, good = _batch(1)
    results = _post_batch(world, items)
    assert [x["status"] for x in results] == ["created", "rejected"] + ["created"] * len(good[1:])
    assert results[1]["error"]["code"] == "internal_error"
    _assert_stored_once(db, world.members["alice"].id, good, policy)
