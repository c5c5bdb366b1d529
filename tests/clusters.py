"""PostgreSQL clusters of a test's own on loopback ports: initdb'd, started and removed by the
test, run as the `postgres` user (runuser) from Debian's PostgreSQL 15 binaries.

    with primary_and_replica() as (primary, replica): ...   # a streaming replica

Behind the `cluster` marker (not run by default): `pytest -m cluster`.
"""

from __future__ import annotations

import contextlib
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
from typing import Any

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


# --- a pg_auto_failover formation (postgresql-15-auto-failover) ----------------------------

PG_AUTOCTL = os.environ.get("ZHUCUN_PG_AUTOCTL", "/usr/bin/pg_autoctl")
HEALTH_CHECKS = {
    "health_check_period": 1000,  # ms
    "health_check_timeout": 1000,
    "health_check_max_retries": 1,
    "health_check_retry_delay": 500,
    "node_considered_unhealthy_timeout": 3000,
}


def autoctl_available() -> str | None:
    if not Path(PG_AUTOCTL).exists():
        return "no pg_autoctl (apt-get install postgresql-15-auto-failover)"
    return available()


@dataclass
class Formation:
    """A monitor and two nodes (primary, synchronous standby), each a `pg_autoctl` process
    group run as postgres."""

    root: Path
    monitor_port: int
    nodes: dict[str, tuple[Path, int]]  # name: (data folder, port)
    processes: dict[str, subprocess.Popen[bytes]]

    def url(self, database: str) -> str:
        """The service's multi-host URL: whichever node is read-write."""
        hosts = "&".join(f"host=127.0.0.1:{port}" for _, port in self.nodes.values())
        return f"postgresql+psycopg://postgres@/{database}?{hosts}&target_session_attrs=read-write"

    def state(self) -> list[tuple[str, str, str]]:
        """(node name, reported state, assigned state) per node, from the monitor."""
        rows = Cluster(self.root / "monitor", self.monitor_port).sql(
            "SELECT nodename, reportedstate::text, goalstate::text "
            "FROM pgautofailover.node ORDER BY nodeid",
            "pg_auto_failover",
        )
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    def kill(self, name: str) -> None:
        """The node's machine lost: its keeper and its PostgreSQL killed at once."""
        import signal

        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        data, _ = self.nodes[name]
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop", check=False)


def _autoctl_env(root: Path) -> dict[str, str]:
    # pg_autoctl keeps its configuration and state under XDG folders: the workspace's own.
    return {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "PG_CONFIG": str(BIN / "pg_config"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_DATA_HOME": str(root / "share"),
        "XDG_RUNTIME_DIR": str(root / "run"),
        "HOME": str(root),
    }


def _autoctl(root: Path, log: str, *args: str) -> subprocess.Popen[bytes]:
    env = " ".join(f"{k}={v}" for k, v in _autoctl_env(root).items())
    out = (root / log).open("wb")
    return subprocess.Popen(
        ["runuser", "-u", OS_USER, "--", "env", *env.split(), PG_AUTOCTL, *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd="/",
        start_new_session=True,
    )


def _wait(what: str, check: Any, seconds: float, poke: Any = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except psycopg.Error:
            pass
        if poke is not None:
            poke()
        time.sleep(0.5)
    raise TimeoutError(f"{what} not within {seconds} s")


@contextmanager
def formation(database: str) -> Iterator[Formation]:
    """A monitor, a primary and a synchronous standby on loopback ports; `database` made on
    the primary. Everything is killed and removed afterwards."""
    with workspace() as root:
        monitor_port = free_port()
        nodes = {name: (root / name, free_port()) for name in ("node_1", "node_2")}
        f = Formation(root, monitor_port, nodes, {})
        monitor_uri = f"postgres://autoctl_node@127.0.0.1:{monitor_port}/pg_auto_failover"
        common = ("--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl")
        try:
            f.processes["monitor"] = _autoctl(
                root, "monitor.log", "create", "monitor", "--pgdata", str(root / "monitor"),
                "--pgport", str(monitor_port), *common, "--run",
            )  # fmt: skip
            monitor = Cluster(root / "monitor", monitor_port)
            _wait("the monitor", lambda: monitor.sql("SELECT 1", "pg_auto_failover"), 90)
            # Faster than the defaults (5 s checks, 20 s before a node is unhealthy): a lost
            # primary is seen in about 5 s (docs/SCALING.md gives both outages).
            for setting, value in HEALTH_CHECKS.items():
                monitor.sql(f"ALTER SYSTEM SET pgautofailover.{setting} = {value}")
            monitor.sql("SELECT pg_reload_conf()")
            primary = Cluster(*nodes["node_1"])

            def settled() -> dict[str, str]:
                return {n: r for n, r, g in f.state() if r == g}

            def checkpoint() -> None:
                # A standby's pg_basebackup waits for a checkpoint: one now, not in minutes.
                with contextlib.suppress(psycopg.Error):
                    primary.sql("CHECKPOINT")

            for name, (data, port) in nodes.items():
                f.processes[name] = _autoctl(
                    root, f"{name}.log", "create", "postgres", "--pgdata", str(data),
                    "--pgport", str(port), "--name", name, "--dbname", database,
                    "--monitor", monitor_uri, *common, "--run",
                )  # fmt: skip
                if name == "node_1":
                    _wait(
                        "the primary",
                        lambda: settled().get("node_1") in ("single", "wait_primary", "primary"),
                        120,
                    )
                else:
                    _wait(
                        "the standby",
                        lambda: settled() == {"node_1": "primary", "node_2": "secondary"},
                        180,
                        checkpoint,
                    )
            yield f
        finally:
            for process in f.processes.values():
                import signal

                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            for data in [root / "monitor", *(d for d, _ in nodes.values())]:
                if (data / "postmaster.pid").exists():
                    _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                 "stop", check=False)  # fmt: skip
