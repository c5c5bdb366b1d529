"""Two `zhucun serve` processes behind HAProxy (deploy/haproxy.cfg): uploads through the one
port go on while a process is killed, and every fix is stored exactly once.

Needs Debian's haproxy (skipped where it is missing). About a minute on a busy machine: behind the
`cluster` marker, `pytest -m cluster tests/deploy`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.checkins.audit import verify_chains
from tests.checkins.helpers import fix
from tests.deploy.serving import serve_processes, wait_ready
from tests.live import free_port

pytestmark = [pytest.mark.postgis, pytest.mark.cluster]

ROOT = Path(__file__).resolve().parents[2]
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
needs_haproxy = pytest.mark.skipif(
    not os.path.exists(HAPROXY), reason="haproxy is not installed (apt-get install haproxy)"
)


@contextmanager
def haproxy(servers: list[str], log_dir: Path) -> Iterator[str]:
    port = free_port()
    env = os.environ | {
        "ZHUCUN_LB_BIND": f"127.0.0.1:{port}",
        "ZHUCUN_SERVE_1": servers[0],
        "ZHUCUN_SERVE_2": servers[1],
    }
    log = (log_dir / "haproxy.log").open("wb")
    proc = subprocess.Popen(
        [HAPROXY, "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc, 20)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@needs_haproxy
def test_uploads_through_haproxy_survive_a_killed_process(world, db, db_url, tmp_path, settings):
    members = ["alice", "bob", "carol"]
    per_member = 60
    base = datetime.now(UTC) - timedelta(hours=3)
    bodies = {
        m: [
            fix(at=base + timedelta(seconds=20 * i), client_id=str(uuid.uuid4()))
            for i in range(per_member)
        ]
        for m in members
    }
    answers: dict[str, list[int]] = {m: [] for m in members}
    retried: list[str] = []
    with (
        serve_processes(db_url, settings.signing_key_file, tmp_path, 2) as servers,
        haproxy([a for a, _ in servers], tmp_path) as lb,
    ):
        killed = threading.Event()

        def phone(member: str) -> None:
            """A phone: each fix until it is answered 201 or 200, retrying as the app does."""
            headers = world.headers(member)
            with httpx.Client(base_url=f"{lb}/api/v1", timeout=30) as client:
                for i, body in enumerate(bodies[member]):
                    if i == per_member // 3 and member == "alice":
                        killed.set()
                    for _attempt in range(30):
                        try:
                            r = client.post("/checkins", json=body, headers=headers)
                        except httpx.HTTPError:
                            retried.append(member)
                            time.sleep(0.2)
                            continue
                        if r.status_code in (200, 201):
                            answers[member].append(r.json()["id"])
                            break
                        assert r.status_code in (502, 503, 504), r.text
                        retried.append(member)
                        time.sleep(0.2)
                    else:
                        raise AssertionError(f"{member}'s fix {i} never stored")

        threads = [threading.Thread(target=phone, args=(m,)) for m in members]
        for t in threads:
            t.start()
        assert killed.wait(120)
        victim = servers[0][1]
        os.killpg(victim.pid, signal.SIGKILL)  # no goodbye: requests in flight are cut
        victim.wait()
        for t in threads:
            t.join(300)
        assert not any(t.is_alive() for t in threads)

    for m in members:
        member_id = world.members[m].id
        rows = db.execute(
            text("SELECT client_id, id FROM checkins WHERE member_id = :m ORDER BY seq"),
            {"m": member_id},
        ).all()
        sent = [b["client_id"] for b in bodies[m]]
        # Every fix once, in the order sent (a phone sends its next fix after an answer).
        assert [r.client_id for r in rows] == sent
        assert sorted(answers[m]) == sorted(r.id for r in rows)
    db.commit()
    report = verify_chains(db)
    assert report.intact, report.broken
    assert report.checkins == per_member * len(members)
    db.rollback()
