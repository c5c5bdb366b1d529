"""Benchmark POST /checkins and /checkins/batch with wrk against one uvicorn process.

    .venv/bin/python bench/checkins_bench.py                  # PostGIS, then SQLite
    .venv/bin/python bench/checkins_bench.py --backend postgis --seconds 10

For each backend: creates a fresh database (PostGIS: on --pg-url's server; SQLite: a temp
file), migrates and seeds it (villages, members each with an assignment and a token), starts
`uvicorn bench.bench_app:app` on a free loopback port, and runs wrk with Lua scripts that
make a fresh client_id per request and rotate tokens across members:

  bare    POST /bench/bare       validate, locate, INSERT one row (the bench-only baseline)
  full    POST /api/v1/checkins  everything: idempotency, flags, hash chain, ledger update
  no-ledger  the same, on a second server whose ledger update is switched off
             (BENCH_NO_LEDGER): what the update costs is 1 - full / no-ledger
  batch   POST /api/v1/checkins/batch with 500 items

Targets (PostGIS, 2 cores): full >= 1,000/s with p99 <= 100 ms at 32 connections and >= 60 %
of bare; batch >= 10,000 check-ins/s.

Honesty checks, per run: each wrk run gets a fresh nonce that, with the wrk thread and a
per-thread counter, makes every client_id unique (a repeated one would be a cheap 200
duplicate or a 409); the Lua scripts count answers by status. The bench fails unless every
answered bare/full request was a 201 (batch: a 200) and the rows stored under the run's nonce
lie between the requests answered and the requests sent (requests in flight when wrk stops
are still stored) with no client_id twice. Afterwards the chains are verified.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from shapely.geometry import MultiPolygon, box
from sqlalchemy import Engine, create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.auth.models import AuthSession, User  # noqa: E402
from app.checkins.audit import verify_chains  # noqa: E402
from app.checkins.models import CheckIn  # noqa: E402
from app.core.db import make_engine, make_session_factory, session_scope  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.core.security import TokenClaims, hash_password, issue_token  # noqa: E402
from app.org.boundaries import bump_boundary_revision  # noqa: E402
from app.org.models import Assignment, Member, Unit, Village, VillageBoundary  # noqa: E402
from bench.bench_app import BARE_TABLE  # noqa: E402

SECRET = "bench-secret-" + "b" * 40
N_VILLAGES = 200
N_MEMBERS = 2000
WRK_DIR = ROOT / "bench" / "wrk"


@dataclass
class Figure:
    name: str
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    per_request: int = 1
    server_cpu_s: float = 0.0  # user + system time of the server process during the run
    sent: int = 0  # requests wrk wrote (answered or in flight when it stopped)
    answers: dict[str, int] = field(default_factory=dict)  # by status: s201, s200, s409, other
    stored: int = 0  # rows (check-ins) stored under the run's nonce

    @property
    def rate(self) -> float:
        return self.requests * self.per_request / self.seconds

    @property
    def cpu_ms_per_checkin(self) -> float:
        return self.server_cpu_s * 1000 / max(1, self.requests * self.per_request)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by a process (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def create_database(backend: str, pg_url: str, workdir: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", None
    name = f"zhucun_bench_{os.getpid()}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg_url.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(pg_url: str, name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed(url: str, members_file: Path) -> None:
    """Villages in a grid of 0.02° squares, members spread over them, a token each."""
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    lines: list[str] = []
    with session_scope(make_session_factory(engine)) as s:
        s.execute(text(BARE_TABLE.format(pk=_pk(url))))
        centres = []
        for i in range(N_VILLAGES):
            code = f"4301{21 + i // 100:02d}{1 + (i // 20) % 5:03d}{1 + i % 20:03d}"
            lon, lat = 113.0 + (i % 20) * 0.02, 28.0 + (i // 20) * 0.02
            s.add(
                Village(
                    code=code,
                    name=f"村{i}",
                    township_code=code[:9],
                    county_code=code[:6],
                    created_at=now,
                )
            )
            centres.append((code, lon + 0.01, lat + 0.01, box(lon, lat, lon + 0.02, lat + 0.02)))
        s.flush()
        for code, _, _, square in centres:
            s.add(
                VillageBoundary(
                    village_code=code,
                    boundary=MultiPolygon([square]),
                    valid_from=now - timedelta(days=400),
                )
            )
        bump_boundary_revision(s)
        unit = Unit(name="市农业农村局")
        s.add(unit)
        s.flush()
        password = hash_password("bench-password")
        start = date.today() - timedelta(days=100)
        members = [
            Member(full_name=f"队员{k}", position="team_member", unit_id=unit.id, created_at=now)
            for k in range(N_MEMBERS)
        ]
        s.add_all(members)
        s.flush()
        users = []
        for k, member in enumerate(members):
            code, lon, lat, _ = centres[k % N_VILLAGES]
            s.add(
                Assignment(member_id=member.id, village_code=code, start_date=start, end_date=None)
            )
            users.append(
                User(
                    username=f"m{k}",
                    password_hash=password,
                    full_name=member.full_name,
                    role="member",
                    scope="",
                    member_id=member.id,
                    is_active=True,
                    created_at=now,
                )
            )
        s.add_all(users)
        s.flush()
        for user in users:
            sid = f"bench{user.id:027d}"
            s.add(AuthSession(id=sid, user_id=user.id, method="password", created_at=now))
        s.flush()
        for k, user in enumerate(users):
            _, lon, lat, _ = centres[k % N_VILLAGES]
            claims = TokenClaims(user.id, "member", "", f"bench{user.id:027d}")
            token = issue_token(claims, SECRET, 24 * 3600)
            lines.append(f"{token} {lon:.6f} {lat:.6f}")
    engine.dispose()
    members_file.write_text("\n".join(lines) + "\n")


def _pk(url: str) -> str:
    return (
        "INTEGER PRIMARY KEY AUTOINCREMENT" if url.startswith("sqlite") else "BIGSERIAL PRIMARY KEY"
    )


def start_server(url: str, port: int, *, no_ledger: bool = False) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ZHUCUN_SECRET_KEY": SECRET,
        "ZHUCUN_LOG_LEVEL": "WARNING",
    }
    if no_ledger:
        env["BENCH_NO_LEDGER"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.bench_app:create_bench_app",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
         "--timeout-graceful-shutdown", "5"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def run_wrk(
    name: str,
    server: subprocess.Popen[bytes],
    port: int,
    path: str,
    script: str,
    members_file: Path,
    *,
    connections: int,
    seconds: int,
    per_request: int = 1,
    extra: tuple[str, ...] = (),
    stored_table: str | None = None,
    engine: Engine | None = None,
) -> Figure:
    nonce = secrets.token_hex(4)  # 8 hex digits: the first group of every client_id this run
    cmd = [
        "wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
        "-s", str(WRK_DIR / script), f"http://127.0.0.1:{port}{path}",
        "--", str(members_file), nonce, *extra,
    ]  # fmt: skip
    cpu_before = cpu_seconds(server.pid)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(server.pid) - cpu_before
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK_RESULT "))
    r = json.loads(line.removeprefix("WRK_RESULT "))
    figure = Figure(
        name=name,
        requests=r["requests"],
        seconds=r["duration_us"] / 1e6,
        non_2xx=r["non_2xx"],
        socket_errors=r["socket_errors"],
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        per_request=per_request,
        server_cpu_s=cpu,
        sent=r["sent"],
        answers={k: r[k] for k in ("s201", "s200", "s409", "other")},
    )
    if stored_table is not None and engine is not None:
        figure.stored = count_stored(engine, stored_table, nonce)
        assert_honest(figure)
    return figure


def count_stored(engine: Engine, table: str, nonce: str) -> int:
    """Rows of the run (its nonce leads every client_id), once requests in flight have landed;
    fails on a client_id stored twice."""
    query = text(f"SELECT count(*), count(DISTINCT client_id) FROM {table} WHERE client_id LIKE :p")
    last = -1
    while True:
        with engine.connect() as conn:
            rows, distinct = conn.execute(query, {"p": f"{nonce}-%"}).one()
        if rows == last:
            break
        last = rows
        time.sleep(0.5)
    if rows != distinct:
        raise SystemExit(f"{table}: {rows - distinct} client_ids stored twice")
    return int(rows)


def assert_honest(f: Figure) -> None:
    """Every answered request did the work measured: all created, nothing a duplicate."""
    expected = "s200" if f.per_request > 1 else "s201"
    answered = f.answers[expected]
    problems = []
    if f.non_2xx or f.socket_errors:
        problems.append(f"{f.non_2xx} non-2xx answers, {f.socket_errors} socket errors")
    if answered != f.requests or sum(f.answers.values()) != f.requests:
        problems.append(f"answers {f.answers} for {f.requests} requests")
    low, high = f.requests * f.per_request, f.sent * f.per_request
    if not low <= f.stored <= high:
        problems.append(f"{f.stored} rows stored, expected {low}..{high}")
    print(
        f"  {f.name:10} sent {f.sent}, answered {f.requests} (all {expected[1:]}), "
        f"rows stored {f.stored} = {f.stored / f.per_request:.0f} requests"
        + ("" if not problems else "  FAILED: " + "; ".join(problems)),
        flush=True,
    )
    if problems:
        raise SystemExit(f"{f.name}: the run was not what it claims to measure")


def bench_backend(backend: str, args: argparse.Namespace) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="zhucun-bench-") as tmp:
        workdir = Path(tmp)
        url, dbname = create_database(backend, args.pg_url, workdir)
        try:
            members_file = workdir / "members.txt"
            t0 = time.perf_counter()
            seed(url, members_file)
            print(f"[{backend}] seeded {N_VILLAGES} villages, {N_MEMBERS} members "
                  f"in {time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
            port = free_port()
            server = start_server(url, port)
            # The same app without the ledger update, to measure what the update costs.
            port_nl = free_port()
            server_nl = start_server(url, port_nl, no_ledger=True)
            engine = make_engine(url)
            try:
                single = "/api/v1/checkins"
                run_wrk("warm-up", server, port, single, "checkin.lua", members_file,
                        connections=32, seconds=2)  # fmt: skip
                run_wrk("warm-up", server, port, "/bench/bare", "checkin.lua", members_file,
                        connections=32, seconds=2)  # fmt: skip
                run_wrk("warm-up", server_nl, port_nl, single, "checkin.lua", members_file,
                        connections=32, seconds=2)  # fmt: skip
                figures = [
                    run_wrk("bare", server, port, "/bench/bare", "checkin.lua", members_file,
                            connections=args.connections, seconds=args.seconds,
                            stored_table="bench_bare_checkins", engine=engine),
                    run_wrk("full", server, port, single, "checkin.lua", members_file,
                            connections=args.connections, seconds=args.seconds,
                            stored_table="checkins", engine=engine),
                    run_wrk("no-ledger", server_nl, port_nl, single, "checkin.lua",
                            members_file, connections=args.connections, seconds=args.seconds,
                            stored_table="checkins", engine=engine),
                    run_wrk("batch×500", server, port, "/api/v1/checkins/batch", "batch.lua",
                            members_file, connections=args.batch_connections,
                            seconds=args.seconds, per_request=500,
                            stored_table="checkins", engine=engine),
                ]  # fmt: skip
            finally:
                engine.dispose()
                for proc in (server, server_nl):
                    proc.terminate()
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
            check(url, backend, figures)
            return figures
        finally:
            drop_database(args.pg_url, dbname)


def check(url: str, backend: str, figures: list[Figure]) -> None:
    """Every 2xx single check-in and batch item is one stored row, and the chains verify."""
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as s:
        rows = s.scalar(select(func.count()).select_from(CheckIn)) or 0
        report = verify_chains(s)
    engine.dispose()
    state = "intact" if report.intact else f"BROKEN: {report.broken[0]}"
    print(f"[{backend}] {rows} check-ins stored; {report.chains} chains {state}", flush=True)


def print_table(results: dict[str, list[Figure]]) -> None:
    print()
    print(f"{'backend':8} {'endpoint':10} {'check-ins/s':>12} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'non-2xx':>8} {'errors':>6} {'server CPU ms/check-in':>23}")  # fmt: skip
    for backend, figures in results.items():
        for f in figures:
            print(f"{backend:8} {f.name:10} {f.rate:12,.0f} {f.p50_ms:8.1f} {f.p99_ms:8.1f} "
                  f"{f.non_2xx:8d} {f.socket_errors:6d} {f.cpu_ms_per_checkin:23.2f}")  # fmt: skip
        by = {f.name: f for f in figures}
        ratio = by["full"].rate / by["bare"].rate
        print(f"{backend:8} full / bare = {ratio:.0%} of the rate")
        share = 1 - by["full"].rate / by["no-ledger"].rate
        cpu_share = 1 - by["no-ledger"].cpu_ms_per_checkin / by["full"].cpu_ms_per_checkin
        print(f"{backend:8} the ledger update costs {share:.0%} of the check-in rate "
              f"({cpu_share:.0%} of the server's CPU per check-in)")  # fmt: skip
    load = os.getloadavg()
    print(f"(load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on "
          f"{os.cpu_count()} CPUs; other processes on the machine skew the figures)")  # fmt: skip
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgis", "sqlite", "both"], default="both")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--batch-connections", type=int, default=4)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "ZHUCUN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    backends = ["postgis", "sqlite"] if args.backend == "both" else [args.backend]
    results = {b: bench_backend(b, args) for b in backends}
    print_table(results)


if __name__ == "__main__":
    main()
