"""The household's countersign: single use (409), expiry (410), a guessed code throttled,
idempotent visits answering the same link, and the same answer for code and link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.households.models import Countersign
from tests.households.support import (
    answer,
    csv_of,
    households_by_code,
    import_csv,
    row,
    token_of,
    visit,
)
from tests.ledger.support import today


def _visited(world):
    r = import_csv(world, csv_of(row("T1", 0, "alice", today() - timedelta(days=3))))
    assert r.status_code == 200, r.text
    household = households_by_code(world)["T1"]
    body = visit(household)
    r = world.post("alice", "/visits", json=body)
    assert r.status_code == 201, r.text
    return household, body, r.json()


def test_a_token_answers_once_and_a_resent_visit_answers_the_same_link(world):
    _, body, v = _visited(world)
    again = world.post("alice", "/visits", json=body)
    assert again.status_code == 200
    assert again.json() == v  # the same link and code
    changed = world.post("alice", "/visits", json={**body, "note": "另一次"})
    assert changed.status_code == 409
    assert changed.json()["code"] == "idempotency_conflict"
    token = token_of(v["countersign"])
    assert answer(world, token).status_code == 200
    for r in (answer(world, token), world.client.get(f"/api/v1/public/countersign/{token}")):
        assert r.status_code == 409
        assert r.json()["code"] == "already_answered"
    code = world.client.post("/api/v1/public/countersign", json={"code": v["countersign"]["code"]})
    assert code.status_code == 409
    # Answered: the resent visit offers no countersign any more.
    assert world.post("alice", "/visits", json=body).json()["countersign"] is None
    assert world.get("alice", "/households").status_code == 403


def test_an_expired_token_answers_410(world, db):
    _, _, v = _visited(world)
    db.execute(update(Countersign).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    db.commit()
    token = token_of(v["countersign"])
    r = answer(world, token)
    assert r.status_code == 410
    assert r.json()["code"] == "expired"
    assert world.client.get(f"/api/v1/public/countersign/{token}").status_code == 410
    code = world.client.post("/api/v1/public/countersign", json={"code": v["countersign"]["code"]})
    assert code.status_code == 410


def test_unknown_tokens_are_404_and_guessed_codes_are_throttled(world):
    _, _, v = _visited(world)
    assert world.client.get("/api/v1/public/countersign/" + "x" * 32).status_code == 404
    real = v["countersign"]["code"]
    wrong = [f"{(int(real) + n) % 1_000_000:06d}" for n in range(1, 7)]
    statuses = [
        world.client.post("/api/v1/public/countersign", json={"code": c}).status_code for c in wrong
    ]
    assert statuses == [404, 404, 404, 404, 404, 429]
    # Throttled per address: even the right code waits.
    r = world.client.post("/api/v1/public/countersign", json={"code": real})
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0


def test_bad_answers_are_422(world):
    _, _, v = _visited(world)
    token = token_of(v["countersign"])
    bad = world.client.post(
        f"/api/v1/public/countersign/{token}",
        json={"confirmed": True, "knows_member": True, "satisfaction": 6},
    )
    assert bad.status_code == 422
    assert (
        world.client.post("/api/v1/public/countersign", json={"code": "12ab56"}).status_code == 422
    )
    assert world.client.get("/api/v1/public/countersign/short").status_code == 422
