"""Two `zhucun serve` processes through PgBouncer in transaction mode (`ZHUCUN_DB_POOLER=
transaction`), with far fewer server connections than the processes hold: consecutive
transactions of one client connection land on different server connections, so anything
prepared on one would be missing on the next. Single check-ins, batches and resends from
several phones at once are all stored exactly once, in order, and the chains verify.

Needs Debian's pgbouncer (skipped where it is missing). Behind the `cluster` marker:
`pytest -m cluster tests/deploy/test_pgbouncer.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import URL, make_url, text

from app.checkins.audit import verify_chains
from tests.checkins.helpers import fix
from tests.clusters import workspace
from tests.deploy.serving import serve_processes
from tests.live import free_port

pytestmark = [pytest.mark.postgis, pytest.mark.cluster]

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
SERVER_CONNECTIONS = 3  # per database and user: two processes hold ~90 client connections
needs_pgbouncer = pytest.mark.skipif(
    not os.path.exists(PGBOUNCER), reason="pgbouncer is not installed (apt-get install pgbouncer)"
)


@contextmanager
def pgbouncer(db_url: str) -> Iterator[tuple[str, str]]:
    """PgBouncer in transaction mode in front of `db_url`'s server, run as `postgres` (it
    will not run as root). Yields the service's URL through it and the admin console's
    libpq string. It lets a startup `options` through (ignored), so that a service left
    without the switch fails on its prepared statements, not at connect: run so, this test
    answered 500s (`prepared statement "zhucun_…" does not exist`)."""
    with workspace() as root:
        yield from _pgbouncer(make_url(db_url), root)


def _pgbouncer(url: URL, root: Path) -> Iterator[tuple[str, str]]:
    port = free_port()
    (root / "userlist.txt").write_text(f'"{url.username}" ""\n')
    (root / "pgbouncer.ini").write_text(
        f"""[databases]
{url.database} = host={url.host or "127.0.0.1"} port={url.port or 5432} dbname={url.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root / "userlist.txt"}
admin_users = {url.username}
pool_mode = transaction
ignore_startup_parameters = options
default_pool_size = {SERVER_CONNECTIONS}
max_client_conn = 400
logfile = {root / "pgbouncer.log"}
pidfile = {root / "pgbouncer.pid"}
"""
    )
    for f in root.iterdir():
        f.chmod(0o644)
    proc = subprocess.Popen(
        ["runuser", "-u", "postgres", "--", PGBOUNCER, str(root / "pgbouncer.ini")]
    )
    admin = f"host=127.0.0.1 port={port} user={url.username} dbname=pgbouncer"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                psycopg.connect(admin, autocommit=True, prepare_threshold=None).close()
                break
            except psycopg.OperationalError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = root / "pgbouncer.log"
                    why = log.read_text() if log.exists() else "pgbouncer died"
                    raise RuntimeError(why) from exc
                time.sleep(0.2)
        yield url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False), admin
    finally:
        proc.terminate()
        proc.wait(10)


def _pools(admin: str) -> list[dict[str, object]]:
    with psycopg.connect(admin, autocommit=True, prepare_threshold=None) as conn:
        cur = conn.execute("SHOW POOLS")
        names = [c.name for c in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@needs_pgbouncer
def test_uploads_through_pgbouncer_in_transaction_mode(world, db, db_url, tmp_path, settings):
    members = ["alice", "bob", "carol"]
    singles, batched = 30, 60
    base = datetime.now(UTC) - timedelta(hours=5)
    sent: dict[str, list[str]] = {}
    problems: list[str] = []

    def phone(lb: str, member: str, offset: int) -> None:
        """Single check-ins, each sent twice (the second a resend), then one batch."""
        headers = world.headers(member)
        ids: list[str] = []
        at = base + timedelta(seconds=offset)
        with httpx.Client(base_url=f"{lb}/api/v1", timeout=60) as client:
            for i in range(singles):
                body = fix(at=at + timedelta(seconds=40 * i), client_id=str(uuid.uuid4()))
                for expected in (201, 200):
                    r = client.post("/checkins", json=body, headers=headers)
                    if r.status_code != expected:
                        problems.append(f"{member} single {i}: {r.status_code} {r.text[:200]}")
                ids.append(body["client_id"])
            later = at + timedelta(seconds=40 * singles)
            items = [
                fix(at=later + timedelta(seconds=40 * i), client_id=str(uuid.uuid4()))
                for i in range(batched)
            ]
            r = client.post("/checkins/batch", json={"items": items}, headers=headers)
            results = r.json().get("results", []) if r.status_code == 200 else []
            if [x["status"] for x in results] != ["created"] * batched:
                problems.append(f"{member} batch: {r.status_code} {r.text[:300]}")
            ids += [item["client_id"] for item in items]
        sent[member] = ids

    with (
        pgbouncer(db_url) as (pooled_url, admin),
        serve_processes(
            pooled_url,
            settings.signing_key_file,
            tmp_path,
            2,
            {"ZHUCUN_DB_POOLER": "transaction"},
        ) as servers,
    ):
        threads = [
            threading.Thread(target=phone, args=(f"http://{servers[i % 2][0]}", m, i))
            for i, m in enumerate(members)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert not any(t.is_alive() for t in threads)
        pools = [p for p in _pools(admin) if p["database"] == make_url(db_url).database]
        # Many clients, few servers: what the test is about.
        assert pools
        assert all(
            int(str(p["sv_active"])) + int(str(p["sv_idle"])) + int(str(p["sv_used"]))
            <= SERVER_CONNECTIONS
            for p in pools
        ), pools
        assert sum(int(str(p["cl_active"])) + int(str(p["cl_waiting"])) for p in pools) > (
            SERVER_CONNECTIONS
        ), pools

    assert problems == []
    for m in members:
        rows = db.execute(
            text("SELECT client_id FROM checkins WHERE member_id = :m ORDER BY seq"),
            {"m": world.members[m].id},
        ).all()
        assert [r.client_id for r in rows] == sent[m]  # each once, in the order sent
    db.commit()
    report = verify_chains(db)
    assert report.intact, report.broken
    assert report.checkins == (singles + batched) * len(members)
    db.rollback()
