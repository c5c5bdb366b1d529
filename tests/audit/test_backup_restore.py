"""The backup and restore of docs/operator.md, run as an operator would: back up with the
checkpoint taken beside it, wipe, restore, and `zhucun audit verify` against the checkpoints.
A restore older than the latest published checkpoint is data loss, and verify says so."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings
from tests.checkins.helpers import fix


@pytest.fixture
def zhucun(db_url, settings, monkeypatch):
    """`zhucun …` in-process against the test database, with the test signing key."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ZHUCUN_SIGNING_KEY_FILE", str(settings.signing_key_file))
    get_settings.cache_clear()

    def run(*args: str):
        return CliRunner().invoke(cli, list(args))

    yield run
    get_settings.cache_clear()


def check_in(world, hours_ago: float) -> None:
    r = world.post("alice", "/checkins", json=fix(ago=timedelta(hours=hours_ago)))
    assert r.status_code == 201, r.text


def test_backup_wipe_restore_verify(world, backend, db_url, zhucun, tmp_path):
    if backend != "sqlite":
        pytest.skip("the SQLite file backup of docs/operator.md; pg_dump is PostgreSQL's own tool")
    live = Path(db_url.removeprefix("sqlite:///"))
    for hours in (6, 5):
        check_in(world, hours)
    # The nightly job: a checkpoint (kept off the server, with the backup), then the backup.
    with_backup = tmp_path / "checkpoint-backup.json"
    assert zhucun("audit", "checkpoint", "--out", str(with_backup)).exit_code == 0
    backup = tmp_path / "zhucun-backup.db"
    with sqlite3.connect(live) as source, sqlite3.connect(backup) as target:
        source.backup(target)  # what `sqlite3 zhucun.db ".backup FILE"` does

    # The day goes on and a later checkpoint is published to the auditors.
    check_in(world, 3)
    published = tmp_path / "checkpoint-latest.json"
    assert zhucun("audit", "checkpoint", "--out", str(published)).exit_code == 0
    world.client.app.state.engine.dispose()
    world.db.close()

    # Disaster: the database is wiped, then restored from last night's backup.
    live.unlink()
    for extra in ("-wal", "-shm"):
        Path(f"{live}{extra}").unlink(missing_ok=True)
    live.write_bytes(backup.read_bytes())

    intact = zhucun("audit", "verify", "--checkpoint", str(with_backup))
    assert intact.exit_code == 0, intact.output
    lost = zhucun("audit", "verify", "--checkpoint", str(published))
    assert lost.exit_code == 1
    assert f"member {world.members['alice'].id}" in lost.output + lost.stderr
    assert "no longer reaches" in lost.output + lost.stderr  # the restore lost a check-in
