"""The account lockout (issue 21 item 6) holds under concurrency: parallel wrong passwords
through uvicorn on loopback, each counted exactly once, and no more passwords checked than the
lockout allows. On PostGIS the counter is one row updated by parallel transactions; on SQLite
writers are serial anyway."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest
from sqlalchemy import select

from app.auth.models import User
from app.core.policy import Policy
from tests.live import live_server
from tests.world import PASSWORD

PARALLEL = 16


@pytest.fixture
def policy(request: pytest.FixtureRequest) -> Policy:
    failures = getattr(request, "param", 5)
    return Policy.model_validate(
        {"security": {"profile": "dengbao3", "lockout_failures": failures}}
    )


def _burst(base: str, username: str, passwords: list[str]) -> list[int]:
    barrier = Barrier(len(passwords))

    def attempt(password: str) -> int:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            r = http.post("/api/v1/auth/token", data={"username": username, "password": password})
            return r.status_code

    with ThreadPoolExecutor(len(passwords)) as pool:
        return list(pool.map(attempt, passwords))


@pytest.mark.parametrize("policy", [100], indirect=True)
def test_parallel_wrong_passwords_are_counted_exactly(world, app, db):
    with live_server(app) as base:
        statuses = Counter(_burst(base, "township1", ["wrong-password"] * PARALLEL))
    assert statuses == {401: PARALLEL}
    count = db.scalar(select(User.failed_logins).where(User.username == "township1"))
    db.commit()
    assert count == PARALLEL


def test_parallel_wrong_passwords_lock_after_exactly_five(world, app, db):
    with live_server(app) as base:
        statuses = Counter(_burst(base, "township1", ["wrong-password"] * PARALLEL))
        # Exactly the five the lockout allows were checked; the rest were refused unread.
        assert statuses == {401: 5, 423: PARALLEL - 5}
        with httpx.Client(base_url=base) as http:
            r = http.post(
                "/api/v1/auth/token", data={"username": "township1", "password": PASSWORD}
            )
        assert (r.status_code, r.json()["code"]) == (423, "account_locked")
    locked_until = db.scalar(select(User.locked_until).where(User.username == "township1"))
    db.commit()
    assert locked_until is not None
