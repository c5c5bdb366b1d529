"""The thread-free check-in path (PostgreSQL): an ordinary new fix is stored by it, with the
same answer, chain and ledger as the thread path; anything else is left to the thread path."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from app.auth.models import User
from app.checkins import fast_path
from app.checkins.models import CheckIn
from tests.checkins.helpers import fix

pytestmark = pytest.mark.postgis


@pytest.fixture
def fast_answers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What each call of fast_path.record answered (None: left to the thread path)."""
    answers: list[Any] = []
    real = fast_path.record

    async def spy(*args: Any, **kwargs: Any) -> Any:
        answer = await real(*args, **kwargs)
        answers.append(answer)
        return answer

    monkeypatch.setattr(fast_path, "record", spy)
    return answers


def test_an_ordinary_fix_is_stored_without_a_thread_and_the_rest_by_the_thread_path(
    world, db, fast_answers
):
    headers = world.headers("alice")
    db.rollback()
    first = world.client.post("/api/v1/checkins", json=fix(), headers=headers)
    assert first.status_code == 201  # the user's first upload in the process: thread path
    body = fix()
    second = world.client.post("/api/v1/checkins", json=body, headers=headers)
    assert second.status_code == 201, second.text
    assert fast_answers
    assert fast_answers[-1] is not None  # stored by the fast path
    stored = second.json()
    assert stored["geofence"] == "inside"
    assert stored["credited"] is True
    resent = world.client.post("/api/v1/checkins", json=body, headers=headers)
    assert resent.status_code == 200  # a resend: the fast path gave way
    assert fast_answers[-1] is None
    assert resent.json()["id"] == stored["id"]
    rows = db.scalars(select(CheckIn).where(CheckIn.client_id == body["client_id"])).all()
    assert len(rows) == 1
    assert rows[0].seq == 2  # one chain: the thread path's fix, then this one
    db.rollback()


def test_a_deactivated_member_is_refused_by_the_fast_path(world, db, fast_answers):
    headers = world.headers("alice")
    user_id = world.users["alice"].id
    db.rollback()
    assert world.client.post("/api/v1/checkins", json=fix(), headers=headers).status_code == 201
    db.execute(update(User).where(User.id == user_id).values(is_active=False))
    db.commit()
    refused = world.client.post("/api/v1/checkins", json=fix(), headers=headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    db.rollback()
    assert db.scalar(select(CheckIn.id).where(CheckIn.seq == 2)) is None
    db.rollback()
