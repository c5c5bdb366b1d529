"""Plain check-ins stored in groups (app.checkins.fast_path, PostgreSQL): many members' fixes
arriving together share transactions, yet each member's chain stays one unforked line, the
ledger equals a rebuild, and one upload that cannot be stored takes nothing from the others."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from app.auth.dependencies import verified_claims
from app.auth.errors import InvalidTokenError
from app.auth.models import AuthSession
from app.checkins import fast_path
from app.checkins.audit import verify_chains
from app.checkins.models import CheckIn
from app.checkins.schemas import CheckInCreate, CheckInOut
from app.core.time import utcnow
from app.ledger import service as ledger
from app.ledger.models import PresenceDay
from tests.checkins.helpers import fix
from tests.ledger.support import ledger_rows

pytestmark = pytest.mark.postgis

VILLAGES = {
    "alice": "430121001001",
    "bob": "430121001002",
    "carol": "430121002001",
    "dave": "430122001001",
}


@pytest.fixture
def group_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    real = fast_path.store_group

    async def spy(connection: Any, engine: Any, policy: Any, group: list[Any]) -> None:
        sizes.append(len(group))
        await real(connection, engine, policy, group)

    monkeypatch.setattr(fast_path, "store_group", spy)
    return sizes


@pytest.fixture
def started(world, db):
    """Every member has checked in once (by the thread path: the chain exists, the geofence
    index is built, the user's member is known), so later fixes are plain."""
    for name, village in VILLAGES.items():
        assert world.post(name, "/checkins", json=fix(village, ago=timedelta(hours=3))).is_success
    db.rollback()
    return world


def _upload_together(
    world: Any, uploads: list[tuple[str, dict[str, Any]]], group: int = 16
) -> list[Any]:
    """Send the (member name, body) uploads to the fast path all at once, on a pool of the
    app's own engine; the answers (or errors) in order."""
    state = world.client.app.state
    settings = state.settings.model_copy(update={"upload_group": group})

    async def run() -> list[Any]:
        group = await fast_path.open_uploads(state.engine, settings, state.policy)
        assert group is not None
        await group.pool.wait()
        try:
            return await asyncio.gather(
                *(
                    fast_path.record(
                        group,
                        world.members[name].id,
                        CheckInCreate.model_validate(body),
                        utcnow(),
                        verified_claims(world.token(name), settings.secret_key),
                    )
                    for name, body in uploads
                ),
                return_exceptions=True,
            )
        finally:
            await group.close()

    return asyncio.run(run())


def test_fixes_arriving_together_are_stored_in_groups_on_unforked_chains(
    started, db, policy, group_sizes
):
    uploads = [
        (name, fix(village, ago=timedelta(minutes=50 - k)))
        for k in range(6)
        for name, village in VILLAGES.items()
    ]
    answers = _upload_together(started, uploads)

    assert all(isinstance(a, CheckInOut) for a in answers), answers
    assert max(group_sizes) > 1  # shared transactions, not one each
    assert sum(group_sizes) == len(uploads)
    for (name, body), answer in zip(uploads, answers, strict=True):
        assert answer.client_id.hex == body["client_id"].replace("-", "")
        assert answer.member_id == started.members[name].id
        assert (answer.geofence, answer.credited) == ("inside", True)
    for member in started.members.values():
        rows = db.scalars(
            select(CheckIn).where(CheckIn.member_id == member.id).order_by(CheckIn.seq)
        ).all()
        assert [r.seq for r in rows] == list(range(1, 8))
        for prev, row in itertools.pairwise(rows):
            assert row.prev_hash == prev.row_hash
    assert verify_chains(db).intact
    incremental = ledger_rows(db)
    db.execute(delete(PresenceDay))
    ledger.rebuild(db, policy)
    db.commit()
    assert ledger_rows(db) == incremental


def test_an_upload_that_cannot_be_stored_leaves_the_rest_of_its_group_stored(
    started, db, group_sizes
):
    resend = fix(VILLAGES["carol"], ago=timedelta(minutes=30))
    assert started.post("carol", "/checkins", json=resend).status_code == 201
    db.execute(
        update(AuthSession)
        .where(AuthSession.id == started.session_id("bob"))
        .values(revoked_at=utcnow())
    )
    db.commit()
    alice = fix(VILLAGES["alice"], ago=timedelta(minutes=20))
    dave = fix(VILLAGES["dave"], ago=timedelta(minutes=20))
    uploads = [
        ("alice", alice),
        ("bob", fix(VILLAGES["bob"], ago=timedelta(minutes=20))),
        ("carol", resend),
        ("dave", dave),
    ]
    group_sizes.clear()

    answers = _upload_together(started, uploads)

    assert group_sizes == [4]  # one transaction for the four
    assert isinstance(answers[0], CheckInOut)
    assert isinstance(answers[1], InvalidTokenError)  # refused: the session was revoked
    assert answers[2] is None  # a resend: the thread path answers it (200, the stored id)
    assert isinstance(answers[3], CheckInOut)
    stored = set(db.scalars(select(CheckIn.client_id)))
    assert {alice["client_id"], dave["client_id"]} <= stored
    assert sum(r.client_id == resend["client_id"] for r in db.scalars(select(CheckIn))) == 1
    bob = started.members["bob"].id
    assert db.scalar(select(CheckIn.seq).where(CheckIn.member_id == bob, CheckIn.seq == 2)) is None
    assert verify_chains(db).intact


def test_one_members_burst_is_stored_in_order_across_groups(started, db, group_sizes):
    # Groups of 2: a take looks 8 uploads deep at most, so most of the burst waits its turn.
    uploads = [("alice", fix(VILLAGES["alice"], ago=timedelta(minutes=40 - k))) for k in range(30)]
    uploads.insert(20, ("bob", fix(VILLAGES["bob"], ago=timedelta(minutes=5))))

    answers = _upload_together(started, uploads, group=2)

    assert all(isinstance(a, CheckInOut) for a in answers), answers
    assert max(group_sizes) <= 2
    alice = started.members["alice"].id
    rows = db.scalars(select(CheckIn).where(CheckIn.member_id == alice).order_by(CheckIn.seq)).all()
    assert [r.seq for r in rows] == list(range(1, 32))
    # Arrival order kept: the burst's fixes are chained in the order they were sent.
    assert [r.client_id for r in rows[1:]] == [b["client_id"] for n, b in uploads if n == "alice"]
    assert verify_chains(db).intact


def test_a_defect_met_by_one_upload_fails_it_alone(started, db, group_sizes, monkeypatch):
    # Issue 18: a defect in judging one upload failed every upload of its group (a 500 each).
    from app.checkins import rules

    doomed = fix(VILLAGES["bob"], ago=timedelta(minutes=20))
    real = rules.judge_flags

    def judge_flags(evidence: Any, policy: Any) -> Any:
        if str(evidence.body.client_id) == doomed["client_id"]:
            raise RuntimeError("a defect met by one fix")
        return real(evidence, policy)

    monkeypatch.setattr(rules, "judge_flags", judge_flags)
    others = {name: fix(VILLAGES[name], ago=timedelta(minutes=20)) for name in VILLAGES}
    others["bob"] = doomed
    group_sizes.clear()

    answers = _upload_together(started, list(others.items()))

    assert group_sizes == [4]
    by_name = dict(zip(others, answers, strict=True))
    assert by_name.pop("bob") is None  # to the thread path, where it fails alone
    assert all(isinstance(a, CheckInOut) for a in by_name.values()), by_name
    stored = [r.client_id for r in db.scalars(select(CheckIn))]
    assert doomed["client_id"] not in stored
    for name in by_name:
        assert stored.count(others[name]["client_id"]) == 1
    assert verify_chains(db).intact
