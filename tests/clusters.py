"""PostgreSQL clusters of a test's own on loopback ports: initdb'd, started and removed by the
test, run as the `postgres` user (runuser) from Debian's PostgreSQL 15 binaries.

    with primary_and_replica() as (primary, replica): ...   # a streaming replica

Behind the `cluster` marker (not run by default): `pytest -m cluster`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.live import free_port

BIN = Path(os.environ.get("ZHUCUN_PG_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"


def available() -> str | None:
    """Why clusters cannot be made here, or None."""
    if not (BIN / "initdb").exists():
        return f"no {BIN}/initdb (apt-get install postgresql-15)"
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        return f"no {OS_USER} user"
    if os.geteuid() != 0:
        return "runuser needs root"
    return None


def _as_postgres(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", OS_USER, "--", *args],
        check=check,
        capture_output=True,
        text=True,
        cwd="/",
    )


@dataclass
class Cluster:
    data: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def start(self) -> None:
        _as_postgres(
            str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "log"),
            "-o", f"-p {self.port}", "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
                     check=False)  # fmt: skip

    def sql(self, statement: str, database: str = "postgres") -> list[tuple[object, ...]]:
        with psycopg.connect(self.dsn(database), autocommit=True) as connection:
            cursor = connection.execute(statement)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []


_CONF = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{socket}'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
fsync = off
synchronous_commit = on
full_page_writes = off
shared_buffers = 32MB
max_connections = 60
log_min_messages = warning
"""


def initdb(root: Path) -> Cluster:
    data = root / f"pg{free_port()}"
    _as_postgres(str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                 "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8")  # fmt: skip
    cluster = Cluster(data, free_port())
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(_CONF.format(socket=root))
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")
    return cluster


def basebackup(primary: Cluster, root: Path) -> Cluster:
    """A streaming replica of `primary` (pg_basebackup -R), on a port of its own."""
    data = root / f"pg{free_port()}"
    _as_postgres(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                 "-U", "postgres", "-D", str(data), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
    return Cluster(data, free_port())


@contextmanager
def workspace() -> Iterator[Path]:
    """A folder the postgres user owns, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="zhucun-clusters-"))
    user = pwd.getpwnam(OS_USER)
    os.chown(root, user.pw_uid, user.pw_gid)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def primary_and_replica() -> Iterator[tuple[Cluster, Cluster]]:
    with workspace() as root:
        primary = initdb(root)
        primary.start()
        replica: Cluster | None = None
        try:
            replica = basebackup(primary, root)
            replica.start()
            yield primary, replica
        finally:
            if replica is not None:
                replica.stop("immediate")
            primary.stop("immediate")


def wait_replayed(primary: Cluster, replica: Cluster, seconds: float = 30) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    target = primary.sql("SELECT pg_current_wal_lsn()::text")[0][0]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = replica.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0][0]
        if done:
            return
        time.sleep(0.05)
    raise TimeoutError(f"the replica did not replay up to {target} in {seconds} s")
