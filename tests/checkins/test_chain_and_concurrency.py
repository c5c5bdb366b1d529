"""Concurrent uploads (one row per client_id, no forked chain) and `zhucun audit verify`."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from app.checkins.audit import verify_chains
from app.checkins.models import ChainHead, CheckIn
from app.cli import cli
from app.core.config import get_settings
from tests.checkins.helpers import fix

THREADS = 20


def rows(db, member_id):
    found = list(
        db.scalars(select(CheckIn).where(CheckIn.member_id == member_id).order_by(CheckIn.seq))
    )
    db.commit()
    return found


def test_concurrent_duplicates_store_one_row_and_one_link(world, db):
    body = fix()
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(
            pool.map(lambda _: world.post("alice", "/checkins", json=body), range(THREADS))
        )
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * (THREADS - 1) + [201]
    assert len({r.json()["id"] for r in answers}) == 1
    stored = rows(db, world.members["alice"].id)
    assert [r.seq for r in stored] == [1]
    assert verify_chains(db).intact
    db.commit()


def test_concurrent_uploads_of_one_member_do_not_fork_the_chain(world, db):
    bodies = [fix(ago=timedelta(minutes=k)) for k in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(lambda b: world.post("alice", "/checkins", json=b), bodies))
        batches = list(
            pool.map(
                lambda k: world.post(
                    "alice",
                    "/checkins/batch",
                    json={
                        "items": [
                            fix(ago=timedelta(hours=1, minutes=k, seconds=s)) for s in range(3)
                        ]
                    },
                ),
                range(4),
            )
        )
    assert {r.status_code for r in answers} == {201}
    assert {r.status_code for r in batches} == {200}
    stored = rows(db, world.members["alice"].id)
    assert [r.seq for r in stored] == list(range(1, THREADS + 12 + 1))
    for prev, row in itertools.pairwise(stored):
        assert row.prev_hash == prev.row_hash
    head = db.get(ChainHead, world.members["alice"].id)
    assert (head.seq, head.last_hash) == (len(stored), stored[-1].row_hash)
    report = verify_chains(db)
    db.commit()
    assert report.intact
    assert report.checkins == len(stored)


@pytest.fixture
def audit(db_url, monkeypatch):
    """Runs `zhucun audit verify` against the test database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def run():
        result = runner.invoke(cli, ["audit", "verify"])
        return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")

    yield run
    get_settings.cache_clear()


@pytest.fixture
def chain(world, db):
    """Alice's chain of 5 check-ins, bob's of 2; returns alice's rows in seq order."""
    for k in range(5):
        assert (
            world.post("alice", "/checkins", json=fix(ago=timedelta(hours=5 - k))).status_code
            == 201
        )
    for k in range(2):
        world.post("bob", "/checkins", json=fix("430121001002", ago=timedelta(hours=k + 1)))
    return rows(db, world.members["alice"].id)


def tamper(db, sql, **params):
    db.execute(text(sql), params)
    db.commit()


def test_a_clean_database_verifies(chain, audit):
    code, out = audit()
    assert code == 0, out
    assert "2 chain(s), 7 check-in(s)" in out


def test_an_edited_row_is_named(chain, db, audit, world):
    target = chain[2]
    tamper(db, "UPDATE checkins SET latitude = latitude + 0.001 WHERE id = :id", id=target.id)
    code, out = audit()
    assert code == 1
    alice = world.members["alice"].id
    assert f"member {alice}, seq 3, check-in {target.id}: row hash does not match" in out
    assert "1 of 2 chain(s) broken" in out


def test_a_deleted_middle_row_is_named(chain, db, audit, world):
    tamper(db, "DELETE FROM checkins WHERE id = :id", id=chain[1].id)
    code, out = audit()
    assert code == 1
    alice = world.members["alice"].id
    assert f"member {alice}, seq 3, check-in {chain[2].id}: seq jumps from 1 to 3" in out


def test_swapped_rows_are_named(chain, db, audit, world):
    a, b = chain[1], chain[2]
    tamper(db, "UPDATE checkins SET seq = -1 WHERE id = :id", id=a.id)
    tamper(db, "UPDATE checkins SET seq = 2 WHERE id = :id", id=b.id)
    tamper(db, "UPDATE checkins SET seq = 3 WHERE id = :id", id=a.id)
    code, out = audit()
    assert code == 1
    alice = world.members["alice"].id
    assert f"member {alice}, seq 2, check-in {b.id}: row hash does not match" in out


def test_a_deleted_last_row_is_named(chain, db, audit, world):
    tamper(db, "DELETE FROM checkins WHERE id = :id", id=chain[-1].id)
    code, out = audit()
    assert code == 1
    alice = world.members["alice"].id
    assert f"member {alice}, seq 4: chain ends at seq 4 but its head says 5" in out


def test_an_edited_hash_chain_is_named(chain, db, audit, world):
    # Re-hashing the edited row is not enough: the next row links to the old hash.
    from app.checkins import hashing

    target = chain[1]
    tamper(db, "UPDATE checkins SET credited = :no WHERE id = :id", no=False, id=target.id)
    table = CheckIn.__table__
    row = db.execute(select(table).where(table.c.id == target.id)).mappings().one()
    db.commit()
    tamper(
        db,
        "UPDATE checkins SET row_hash = :h WHERE id = :id",
        h=hashing.row_hash(row),
        id=target.id,
    )
    code, out = audit()
    assert code == 1
    alice = world.members["alice"].id
    assert f"member {alice}, seq 3, check-in {chain[2].id}: prev_hash does not match" in out


def test_the_chain_hash_of_a_known_row_never_changes():
    """Every stored link was hashed by this function: a change to its encoding (a faster
    encoder, a new field) must leave the hash of existing rows as it was."""
    from datetime import UTC, date, datetime

    from app.checkins import hashing

    row = {
        "member_id": 1, "seq": 2, "client_id": "abc",
        "captured_at": datetime(2026, 1, 1, tzinfo=UTC),
        "received_at": datetime(2026, 1, 1, 1, tzinfo=UTC),
        "local_date": date(2026, 1, 1), "latitude": 1.5, "longitude": 2.25,
        "raw_latitude": 1.5, "raw_longitude": 2.25, "coord_system": "wgs84",
        "accuracy_m": 10.0, "altitude_m": None, "speed_mps": 1.0, "heading_deg": None,
        "provider": None, "is_mock": False, "device_id": "d", "roll_call_id": None,
        "village_code": "x", "assigned_village_code": "x", "boundary_id": 3,
        "geofence": "inside", "distance_m": 0.0, "credited": True, "flags": "",
        "body_hash": "h", "prev_hash": "p", "flag_evidence": {"b": 1, "a": 2},
        "wifi": ["x"], "wifi_match": True,
    }  # fmt: skip
    expected = "15be6c1bc586ffaa2215e7b78de93eb3479ff986bd0087ee7bd90f49a227576b"
    assert hashing.row_hash(row) == expected
    # SQLite hands back naive datetimes and ints for booleans: the same hash.
    assert hashing.row_hash(row | {"captured_at": datetime(2026, 1, 1), "credited": 1}) == expected
