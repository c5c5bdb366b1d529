"""Issue 18, item 7a: a page of a mini-program fires several requests at once and each
refreshes with the same refresh token. Within `ZHUCUN_REFRESH_GRACE` of its rotation, the token
answers the same new pair again (one consistent session); after it, reuse revokes as before."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from app.auth.models import AuthSession, RefreshToken
from tests.auth.test_sessions import bearer, login, me, refresh
from tests.live import live_server
from tests.locks import wait_for_lock_waiters

GRACE = 30  # the default


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _age_rotation(db, raw: str, seconds: float) -> None:
    """Make the rotation of `raw` lie `seconds` further in the past."""
    row = db.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(raw)))
    row.rotated_at = row.rotated_at - timedelta(seconds=seconds)
    db.commit()


def _revoked(db, pair: dict) -> str | None:
    row = db.scalar(
        select(AuthSession)
        .join(RefreshToken, RefreshToken.session_id == AuthSession.id)
        .where(RefreshToken.token_hash == _digest(pair["refresh_token"]))
    )
    reason = row.revoked_reason
    db.commit()
    return reason


def test_a_token_presented_again_within_the_grace_answers_the_same_pair(world, client, db):
    first = login(client, "alice")
    one = refresh(client, first["refresh_token"])
    two = refresh(client, first["refresh_token"])
    assert (one.status_code, two.status_code) == (200, 200), two.text
    a, b = one.json(), two.json()
    assert (a["access_token"], a["refresh_token"]) == (b["access_token"], b["refresh_token"])
    assert 0 < b["expires_in"] <= a["expires_in"]
    assert 0 < b["refresh_expires_in"] <= a["refresh_expires_in"]
    # One session, still open: the pair works, and its refresh token rotates once more.
    assert me(client, b) == 200
    assert _revoked(db, b) is None
    three = refresh(client, b["refresh_token"])
    assert three.status_code == 200
    assert three.json()["refresh_token"] != b["refresh_token"]


def test_after_the_grace_reuse_still_revokes_the_session(world, client, db):
    first = login(client, "bob")
    second = refresh(client, first["refresh_token"]).json()
    _age_rotation(db, first["refresh_token"], GRACE + 1)
    r = refresh(client, first["refresh_token"])
    assert (r.status_code, r.json()["code"]) == (401, "invalid_refresh_token")
    assert _revoked(db, second) == "refresh_reuse"
    assert me(client, second) == 401
    assert refresh(client, second["refresh_token"]).status_code == 401


def test_just_inside_the_grace_still_answers(world, client, db):
    first = login(client, "carol")
    second = refresh(client, first["refresh_token"]).json()
    _age_rotation(db, first["refresh_token"], GRACE - 2)
    again = refresh(client, first["refresh_token"])
    assert again.status_code == 200
    assert again.json()["refresh_token"] == second["refresh_token"]


def test_the_pair_is_kept_sealed_never_in_clear(world, client, db):
    first = login(client, "dave")
    second = refresh(client, first["refresh_token"]).json()
    rows = db.scalars(select(RefreshToken).order_by(RefreshToken.id)).all()
    stored = b"".join([r.token_hash.encode() for r in rows] + [r.successor or b"" for r in rows])
    db.commit()
    for secret in (second["refresh_token"], second["access_token"], first["refresh_token"]):
        assert secret.encode() not in stored
    sealed = [r.token_hash for r in rows if r.successor is not None]
    assert sealed == [_digest(first["refresh_token"])]


def test_an_altered_sealed_pair_counts_as_reuse(world, client, db):
    first = login(client, "alice")
    second = refresh(client, first["refresh_token"]).json()
    row = db.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _digest(first["refresh_token"]))
    )
    sealed = bytearray(row.successor)
    sealed[-1] ^= 1
    row.successor = bytes(sealed)
    db.commit()
    assert refresh(client, first["refresh_token"]).status_code == 401
    assert _revoked(db, second) == "refresh_reuse"


def test_sealed_pairs_past_the_grace_are_wiped_at_the_next_rotation(world, client, db):
    first = login(client, "bob")
    second = refresh(client, first["refresh_token"]).json()
    _age_rotation(db, first["refresh_token"], GRACE + 1)
    third = refresh(client, second["refresh_token"]).json()
    kept = db.scalars(
        select(RefreshToken.token_hash).where(RefreshToken.successor.is_not(None))
    ).all()
    db.commit()
    assert kept == [_digest(second["refresh_token"])]
    assert me(client, third) == 200


def test_a_session_ended_within_the_grace_is_not_revived(world, client):
    first = login(client, "carol")
    second = refresh(client, first["refresh_token"]).json()
    assert client.post("/api/v1/auth/logout", headers=bearer(second)).status_code == 204
    assert refresh(client, first["refresh_token"]).status_code == 401
    assert me(client, second) == 401


def test_a_zero_grace_makes_any_reuse_revoke(world, settings, policy, db):
    from starlette.testclient import TestClient

    from app.main import create_app

    strict = create_app(settings.model_copy(update={"refresh_grace_seconds": 0}), policy)
    with TestClient(strict) as c:
        first = login(c, "alice")
        second = refresh(c, first["refresh_token"]).json()
        assert refresh(c, first["refresh_token"]).status_code == 401
        assert me(c, second) == 401
    assert _revoked(db, second) == "refresh_reuse"


PARALLEL = 4


@pytest.mark.postgis
def test_parallel_refreshes_with_one_token_all_answer_one_pair(world, app, engine, db):
    """The requests of one page refresh at the same instant on PostgreSQL: the test holds the
    token's row lock until all of them wait on it, then lets go. Each must answer the pair the
    first one committed, and the session must stay open."""
    pair = login(world.client, "alice")
    token = pair["refresh_token"]
    with live_server(app) as base:

        def go(_: int) -> httpx.Response:
            with httpx.Client(base_url=base, timeout=60) as each:
                return each.post("/api/v1/auth/refresh", json={"refresh_token": token})

        with engine.connect() as holder, ThreadPoolExecutor(PARALLEL) as pool:
            holder.execute(
                select(RefreshToken.id)
                .where(RefreshToken.token_hash == _digest(token))
                .with_for_update()
            )
            futures = [pool.submit(go, n) for n in range(PARALLEL)]
            wait_for_lock_waiters(
                engine, PARALLEL, timeout_s=30, what="refreshes waiting on the token's lock"
            )
            holder.rollback()
            answers = [f.result() for f in futures]
    assert [a.status_code for a in answers] == [200] * PARALLEL, [a.text for a in answers]
    pairs = {(a.json()["access_token"], a.json()["refresh_token"]) for a in answers}
    assert len(pairs) == 1
    access, new_refresh = pairs.pop()
    assert _revoked(db, {"refresh_token": new_refresh}) is None
    assert me(world.client, {"access_token": access}) == 200
    # The token was exchanged once: its session holds it and the one pair it answered.
    session_id = db.scalar(
        select(RefreshToken.session_id).where(RefreshToken.token_hash == _digest(token))
    )
    tokens = db.scalars(select(RefreshToken).where(RefreshToken.session_id == session_id)).all()
    db.commit()
    assert sorted(t.token_hash for t in tokens) == sorted([_digest(token), _digest(new_refresh)])


@pytest.mark.postgis
def test_parallel_reuse_after_the_grace_still_revokes(world, app, engine, db):
    """Past the grace, two refreshes racing with an old token: neither gets a pair, and the
    session ends (the lock orders them; each sees reuse)."""
    pair = login(world.client, "bob")
    second = refresh(world.client, pair["refresh_token"]).json()
    _age_rotation(db, pair["refresh_token"], GRACE + 1)
    with live_server(app) as base:

        def go(_: int) -> int:
            with httpx.Client(base_url=base, timeout=60) as each:
                r = each.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
                return r.status_code

        with engine.connect() as holder, ThreadPoolExecutor(2) as pool:
            holder.execute(
                select(RefreshToken.id)
                .where(RefreshToken.token_hash == _digest(pair["refresh_token"]))
                .with_for_update()
            )
            futures = [pool.submit(go, n) for n in range(2)]
            wait_for_lock_waiters(engine, 2, timeout_s=30, what="refreshes waiting")
            holder.rollback()
            statuses = [f.result() for f in futures]
    assert statuses == [401, 401]
    assert _revoked(db, second) == "refresh_reuse"
