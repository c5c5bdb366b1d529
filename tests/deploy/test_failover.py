"""Failover without losing a fix: a pg_auto_failover formation (monitor, primary, synchronous
standby) on loopback ports, `zhucun serve` on its multi-host URL
(`target_session_attrs=read-write`); the primary is killed under upload load. The phones'
retries end with every fix stored exactly once, the chains and the actions log verify, the
ledger equals a rebuild, and the service was never restarted. Prints the write outage.

    ZHUCUN_TEST_BACKEND=postgis .venv/bin/python -m pytest -m cluster -s \
        tests/deploy/test_failover.py
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text

from app.checkins.audit import verify_chains
from app.core.migrate import upgrade
from app.core.policy import Policy
from app.ledger.models import PresenceDay
from app.ledger.service import rebuild
from tests import clusters
from tests.checkins.helpers import fix
from tests.deploy.serving import serve_processes
from tests.org.helpers import zhucun

pytestmark = [
    pytest.mark.postgis,
    pytest.mark.cluster,
    pytest.mark.skipif(
        clusters.autoctl_available() is not None, reason=str(clusters.autoctl_available())
    ),
]


@pytest.fixture(scope="module")
def formation() -> Iterator[clusters.Formation]:
    with clusters.formation("zhucun") as made:
        upgrade(made.url("zhucun"))
        yield made


@pytest.fixture
def db_url(formation) -> str:  # whichever node is read-write (overrides the suite's)
    return formation.url("zhucun")


def _ledger(db) -> list[tuple[object, ...]]:
    rows = db.execute(
        select(
            PresenceDay.member_id, PresenceDay.day, PresenceDay.counted_checkins,
            PresenceDay.first_counted_at, PresenceDay.last_counted_at, PresenceDay.present,
        ).order_by(PresenceDay.member_id, PresenceDay.day)
    )  # fmt: skip
    return [tuple(r) for r in rows]


def test_killing_the_primary_under_upload_loses_no_fix(
    world, db, engine, db_url, formation, settings, tmp_path
):
    members = ["alice", "bob", "carol"]
    per_member = 45
    start = datetime.now(UTC) - timedelta(hours=4)
    bodies = {
        m: [
            fix(at=start + timedelta(seconds=30 * i), client_id=str(uuid.uuid4()))
            for i in range(per_member)
        ]
        for m in members
    }
    stored_at: list[float] = []  # when each upload was answered 201/200
    failed_at: list[float] = []  # when an attempt failed (503, connection lost)
    done = dict.fromkeys(members, 0)
    with serve_processes(db_url, settings.signing_key_file, tmp_path, 1) as servers:
        base = f"http://{servers[0][0]}/api/v1"
        server = servers[0][1]

        def phone(member: str) -> None:
            headers = world.headers(member)
            with httpx.Client(base_url=base, timeout=15) as client:
                for body in bodies[member]:
                    deadline = time.monotonic() + 240
                    while True:
                        assert time.monotonic() < deadline, f"{member}: a fix never stored"
                        try:
                            r = client.post("/checkins", json=body, headers=headers)
                        except httpx.HTTPError:
                            failed_at.append(time.monotonic())
                            time.sleep(0.25)
                            continue
                        if r.status_code in (200, 201):
                            stored_at.append(time.monotonic())
                            done[member] += 1
                            break
                        assert r.status_code in (500, 502, 503, 504), r.text
                        failed_at.append(time.monotonic())
                        time.sleep(0.25)
                    time.sleep(0.05)

        threads = [threading.Thread(target=phone, args=(m,)) for m in members]
        for t in threads:
            t.start()
        while min(done.values()) < per_member // 3:
            assert all(t.is_alive() for t in threads) or min(done.values()) >= per_member // 3
            time.sleep(0.1)
        killed_at = time.monotonic()
        formation.kill("node_1")  # the primary's machine is gone
        for t in threads:
            t.join(400)
        assert not any(t.is_alive() for t in threads)
        assert server.poll() is None  # the same process all along: never restarted
        after = [s for s in stored_at if s > killed_at]
        outage = min(after) - killed_at
        first_failure = min((f for f in failed_at if f > killed_at), default=None)
        sys.stderr.write(
            f"\nfailover: writes stopped for {outage:.1f} s after the primary was killed "
            f"({len([f for f in failed_at if f > killed_at])} failed attempts retried; first "
            f"failure {0 if first_failure is None else first_failure - killed_at:.1f} s after)\n"
        )
    states = {n: r for n, r, _ in formation.state()}
    assert states["node_2"] in ("wait_primary", "primary"), states

    engine.dispose()  # its connections were to the dead primary
    db.close()
    for m in members:
        member_id = world.members[m].id
        stored = (
            db.execute(
                text("SELECT client_id FROM checkins WHERE member_id = :m ORDER BY seq"),
                {"m": member_id},
            )
            .scalars()
            .all()
        )
        assert stored == [b["client_id"] for b in bodies[m]], m
    report = verify_chains(db)
    assert report.intact, report.broken
    assert report.checkins == per_member * len(members)
    ledger = _ledger(db)
    db.rollback()
    rebuild(db, Policy(), None, None, None)
    db.commit()
    assert _ledger(db) == ledger
    db.rollback()
    verified = zhucun(db_url, "audit", "verify")
    assert verified.exit_code == 0, verified.output
