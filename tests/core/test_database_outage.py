"""The database stopped and started under the running app (issue 11, defect 5): 503
`database_unavailable` with Retry-After while it is away, and the first request after it is
back succeeds although every pooled connection died meanwhile.

A throwaway PostgreSQL cluster on its own port (initdb refuses root: run as `postgres`).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from starlette.testclient import TestClient

from app.checkins.models import CheckIn
from app.core.config import Settings
from app.core.db import make_engine, make_session_factory
from app.core.migrate import upgrade
from app.core.policy import Policy
from tests.checkins.helpers import fix
from tests.conftest import TEST_SECRET
from tests.live import free_port
from tests.world import World

pytestmark = pytest.mark.postgis

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class Cluster:
    def __init__(self, root: Path, port: int) -> None:
        self.data = root / "data"
        self.root = root
        self.port = port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/zhucun"

    def _pg(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def init(self) -> None:
        self._pg(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-N"
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
            " -c fsync=off -c full_page_writes=off"
        )
        log = str(self.root / "server.log")  # not a pipe: the server outlives pg_ctl
        self._pg(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if shutil.which("runuser") is None or not (PG_BIN / "initdb").exists():
        pytest.fail("needs runuser and PostgreSQL 15 binaries under /usr/lib/postgresql/15/bin")
    root = Path(tempfile.mkdtemp(prefix="zhucun-outage-"))
    shutil.chown(root, "postgres", "postgres")
    c = Cluster(root, free_port())
    c.init()
    try:
        c.start()
        admin = create_engine(c.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE zhucun"))
        admin.dispose()
        upgrade(c.url)
        yield c
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            c.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def outage_world(cluster: Cluster) -> Iterator[World]:
    from app.main import create_app

    settings = Settings(
        DATABASE_URL=cluster.url, ZHUCUN_SECRET_KEY=TEST_SECRET, ZHUCUN_LOG_LEVEL="CRITICAL"
    )
    app = create_app(settings, Policy())
    engine = make_engine(cluster.url)
    db = make_session_factory(engine)()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield World.build(db, client)
    db.close()
    engine.dispose()
    app.state.engine.dispose()


def _stored(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(CheckIn))
    engine.dispose()
    return int(n or 0)


def test_outage_answers_503_and_recovery_needs_no_restart(cluster, outage_world):
    world = outage_world
    assert world.get("county", "/me").status_code == 200
    assert world.post("alice", "/checkins", json=fix()).status_code == 201

    cluster.stop()
    try:
        for r in (
            world.get("county", "/me"),
            world.post("alice", "/checkins", json=fix()),
            world.get("county", "/villages"),
        ):
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "database_unavailable"
            assert int(r.headers["Retry-After"]) > 0
        assert world.client.get("/readyz").status_code == 503
    finally:
        cluster.start()
    assert world.get("county", "/me").status_code == 200

    # Every pooled connection dies while nobody calls: the first request after the database
    # is back must not fail on one of them, whatever its method.
    assert world.get("county", "/me").status_code == 200
    cluster.stop()
    cluster.start()
    body = fix()
    r = world.post("alice", "/checkins", json=body)
    assert r.status_code == 201, r.text
    assert world.post("alice", "/checkins", json=body).status_code == 200
    cluster.stop()
    cluster.start()
    assert world.get("county", "/me").status_code == 200
    assert _stored(cluster.url) == 2
