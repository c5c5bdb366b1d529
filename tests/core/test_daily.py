"""`zhucun daily` runs every daily job against a real database, one summary line each, and a
failing job fails the run without keeping the others from running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from app.core.outbox import OutboxEvent
from app.daily import JOBS
from tests.ledger.support import today

ROOT = Path(__file__).resolve().parents[2]


def daily(db_url: str, key_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "ZHUCUN_SIGNING_KEY_FILE": str(key_file)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "daily", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=False,
    )


def overstay(world) -> int:
    """Alice's approved leave that ended a week ago, and no fix of hers since."""
    t = today()
    leave = world.post(
        "alice",
        "/leave-requests",
        json={
            "type": "personal",
            "start_date": str(t - timedelta(8)),
            "end_date": str(t - timedelta(7)),
            "emergency": True,
        },
    ).json()
    assert world.post("township1", f"/leave-requests/{leave['id']}/approve").status_code == 200
    return int(leave["id"])


def test_daily_runs_every_job_in_order_one_line_each(world, db, db_url, tmp_path):
    leave_id = overstay(world)
    result = daily(db_url, tmp_path / "key.pem", "--checkpoints", str(tmp_path / "cp"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [job.name for job in JOBS]
    yesterday = today() - timedelta(1)
    said = dict(line.split(": ", 1) for line in lines)
    assert said["checkins partitions"]  # PostgreSQL: months made and sealed; SQLite: nothing
    assert said["leave scan-overdue"] == "1 overdue leave event(s) queued"
    assert said["supervision scan-overdue"] == "0 overdue rectification event(s) queued"
    assert said["checkins scan-replays"].startswith(f"{yesterday}: ")
    assert (
        said["surveys purge"] == "0 wave(s) had their device hashes replaced by wave-local numbers"
    )
    assert said["outbox retry"] == "no notification target is configured (ZHUCUN_WEBHOOKS)"
    assert said["auth purge-login-log"] == "0 login attempt(s) older than 180 days deleted"
    assert said["privacy purge"].startswith("0 fix(es) captured before ")
    assert said["rollup refresh"] == "this database publishes no province: nothing to refresh"
    assert said["audit checkpoint"].startswith("checkpoint ")
    assert lines[-1].startswith("audit checkpoint: "), "last: it signs what the others wrote"
    written = json.loads((tmp_path / "cp" / f"{today()}.json").read_text())
    assert {"root", "signature", "heads"} <= set(written)
    events = db.scalars(select(OutboxEvent).where(OutboxEvent.topic == "leave.overdue")).all()
    assert [e.payload["leave_id"] for e in events] == [leave_id]
    db.rollback()  # SQLite: the read took the write lock, which the next run needs

    again = daily(db_url, tmp_path / "key.pem")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1] == "leave scan-overdue: 0 overdue leave event(s) queued"


def test_a_failing_job_fails_the_run_and_the_others_still_run(world, db, db_url, tmp_path):
    overstay(world)
    broken = tmp_path / "broken.pem"
    broken.write_text("not a key\n")
    result = daily(db_url, broken)
    assert result.returncode == 1
    assert [line.split(": ", 1)[0] for line in result.stdout.splitlines()] == [
        job.name for job in JOBS if job.name != "audit checkpoint"
    ]
    assert "1 overdue leave event(s) queued" in result.stdout
    assert "Traceback" not in result.stderr
    errors = result.stderr.strip().splitlines()
    assert errors[0].startswith(f"audit checkpoint: FAILED: cannot read the signing key {broken}")
    assert errors[1] == f"daily: 1 of {len(JOBS)} job(s) failed"
    assert len(errors) == 2
