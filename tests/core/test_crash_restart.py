"""Crash and restart (issue 11): a real `zhucun serve` process, SIGKILLed while batches of
fixes stream in, restarted, and sent everything again — every fix stored exactly once, every
chain intact (`zhucun audit verify` exits 0), and the ledger equal to a rebuild."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from app.checkins.models import CheckIn
from app.ledger.models import PresenceDay
from tests.checkins.helpers import fix
from tests.conftest import TEST_SECRET
from tests.live import free_port
from tests.world import VILLAGES

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = {"alice": "430121001001", "bob": "430121001002", "carol": "430121002001"}
BATCHES_PER_MEMBER = 12
FIXES_PER_BATCH = 10


def _env(settings: Any) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "ZHUCUN_SECRET_KEY": TEST_SECRET,
        "ZHUCUN_SIGNING_KEY_FILE": str(settings.signing_key_file),
        "ZHUCUN_LOG_LEVEL": "WARNING",
    }


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    answer = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
            if answer.status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text()
        time.sleep(0.1)
    process.kill()
    detail = answer.text if answer is not None else "no answer"
    raise AssertionError(f"zhucun serve did not become ready: {detail}\n{log.read_text()}")


def _batches() -> list[tuple[str, dict[str, Any]]]:
    """Every member's fixes, oldest first, in batches (interleaved across members)."""
    start = datetime.now(UTC) - timedelta(hours=20)
    out = []
    for b in range(BATCHES_PER_MEMBER):
        for key, village in MEMBERS.items():
            items = [
                fix(village, at=start + timedelta(minutes=5 * (b * FIXES_PER_BATCH + i)))
                for i in range(FIXES_PER_BATCH)
            ]
            out.append((key, {"items": items}))
    return out


def _send(
    base: str, headers: dict[str, Any], batches: list[tuple[str, dict[str, Any]]], acked: list[int]
):
    """Send batches until the server goes away; note each one answered 200."""
    with httpx.Client(base_url=base, timeout=10) as client:
        for n, (key, body) in enumerate(batches):
            try:
                r = client.post("/api/v1/checkins/batch", json=body, headers=headers[key])
            except httpx.TransportError:
                return
            assert r.status_code == 200, r.text
            acked.append(n)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _ledger(db: Any) -> list[tuple[Any, ...]]:
    db.rollback()  # a fresh snapshot: other processes wrote
    rows = db.execute(select(PresenceDay).order_by(PresenceDay.member_id, PresenceDay.day))
    return [
        (d.member_id, d.day, d.counted_checkins, d.first_counted_at, d.present, d.leave_id)
        for (d,) in rows
    ]


def test_sigkill_mid_stream_then_resend_stores_each_fix_once(world, settings, db, tmp_path):
    assert set(MEMBERS.values()) <= set(VILLAGES)
    env = _env(settings)
    port = free_port()
    batches = _batches()
    headers = {key: world.headers(key) for key in MEMBERS}
    db.rollback()  # SQLite: an open transaction here holds the write lock
    server = _serve(env, port, tmp_path / "serve.log")
    acked: list[int] = []
    half = len(batches) // 2
    senders = [
        threading.Thread(target=_send, args=(f"http://127.0.0.1:{port}", headers, part, acked))
        for part in (batches[:half], batches[half:])
    ]
    for t in senders:
        t.start()
    while len(acked) < 6:  # well into the stream, with both senders mid-request
        time.sleep(0.01)
    os.kill(server.pid, signal.SIGKILL)
    server.wait(10)
    for t in senders:
        t.join(30)
    assert len(acked) < len(batches), "the stream finished before the kill"

    db.rollback()
    stored_before = db.scalar(select(func.count()).select_from(CheckIn))
    assert stored_before is not None
    assert stored_before >= 6 * FIXES_PER_BATCH
    db.rollback()

    server = _serve(env, port, tmp_path / "serve.log")
    try:
        again: list[int] = []
        _send(f"http://127.0.0.1:{port}", headers, batches, again)
        assert len(again) == len(batches)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)

    db.rollback()
    sent = {item["client_id"] for _, body in batches for item in body["items"]}
    rows = db.execute(select(CheckIn.client_id, func.count()).group_by(CheckIn.client_id)).all()
    assert {client_id for client_id, _ in rows} == sent
    assert all(count == 1 for _, count in rows)

    db.rollback()
    verify = _cli(env, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    served = _ledger(db)
    assert served
    db.rollback()
    rebuild = _cli(env, "ledger", "rebuild")
    assert rebuild.returncode == 0, rebuild.stdout + rebuild.stderr
    assert _ledger(db) == served
