"""Benchmark POST /checkins and /checkins/batch of `zhucun serve` against a bare endpoint.

    .venv/bin/python bench/checkins_bench.py [--workers 1,2] [--runs 3] [--seconds 15]
    .venv/bin/python bench/checkins_bench.py --smoke   # 20 members, 1 s of wrk: does it run

On PostGIS (a fresh database on --pg-url's server, dropped afterwards): migrates and seeds 200
villages and 200 members (an assignment, an open session and a token each) with a history of 60
fixes each over the last 20 days (uploaded as batches through the product), then VACUUM
ANALYZE before each server starts (the statistics autovacuum keeps on a database in service;
planned on an empty table, the reads scanned all of a member's fixes), and for each run and
each process count N:

  bare   `uvicorn bench.bare_endpoint:app --workers N`: the least a check-in endpoint can do
         (token payload, Pydantic body, STRtree lookup, one prepared INSERT … ON CONFLICT DO
         NOTHING in autocommit on an async psycopg pool of 8; see bench/bare_endpoint.py)
  full   `zhucun serve --workers N`: POST /api/v1/checkins, everything (principal, idempotency,
         flags, hash chain, ledger)
  batch  the same server: 20,000 fixes as 40 POST /api/v1/checkins/batch of 500, 4 at a time

Each server runs alone (the other is stopped), is warmed up, then driven by
`wrk -t1 -c32 -d<seconds>` with bench/wrk/checkin.lua: 200 members' tokens in rotation, fresh
fixes near each member's village. Reported per row: check-ins/s, p50/p99 latency, CPU ms per
check-in of the server (user + system of the server process and all its descendants, from
/proc/<pid>/stat) and of the PostgreSQL backends serving it, the share of the machine busy with
anything else meanwhile (a shared machine squeezes the figures: the bare endpoint most),
full/bare, and the batch rate. With --runs > 1 the order of bare and full
alternates and the spread (min/median/max) is printed per process count.

  ceiling  pgbench, 8 clients for --seconds: one single-row INSERT per transaction into a
         narrow table (the database's own single-row insert ceiling that issue 24 measures the
         batch against), and the same into `bench_bare_checkins` (a row shaped and indexed
         like a check-in), each right after the batch run

Targets (issue 12): full >= 0.6 x bare with p99 <= 100 ms at 32 connections; (issue 24) the
batch >= 0.5 x the pgbench ceiling of the same run (issue 24 quoted 29,500/s for that ceiling
on a quiet machine, so 15,000 fixes/s; on a busy one both fall together, hence the ratio).

Honesty checks, per measured run: each wrk run gets a fresh nonce that, with the wrk thread
and a per-thread counter, makes every client_id unique; the Lua script counts answers by
status. The bench fails unless every answer was a 201 (batch: every item "created"), no
socket errors, and the rows stored under the run's nonce lie between the requests answered
and the requests sent (requests in flight when wrk stops still land), no client_id twice.
At the end the product's hash chains are verified.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import Engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.checkins.audit import verify_chains  # noqa: E402
from app.checkins.models import CheckIn  # noqa: E402
from app.core.db import make_engine, make_session_factory, session_scope  # noqa: E402
from bench import bare_endpoint  # noqa: E402
from bench.seed import (  # noqa: E402  (create/drop/free_port: bench/soak.py imports them here)
    SECRET,
    create_database,
    drop_database,
    free_port,
    seed_checkin_members,
)

__all__ = ["create_database", "drop_database", "free_port"]

WRK_DIR = ROOT / "bench" / "wrk"
SINGLE = "/api/v1/checkins"
BATCH = "/api/v1/checkins/batch"
BATCH_CONCURRENCY = 4
TARGET_RATIO, TARGET_P99_MS, TARGET_BATCH_RATIO = 0.6, 100.0, 0.5
PGBENCH_CLIENTS = 8


@dataclass(frozen=True)
class Sizes:
    villages: int = 200
    members: int = 200
    history: int = 60  # fixes per member, over the last 20 days
    batch_requests: int = 40
    batch_size: int = 500


# --smoke: the same steps at a size that takes seconds (CI runs it: a bench that breaks fails).
SMOKE = Sizes(villages=20, members=20, history=6, batch_requests=4, batch_size=50)
SIZES = Sizes()


@dataclass
class Figure:
    endpoint: str  # bare | full | batch
    workers: int
    run: int
    checkins: int  # answered check-ins (batch: fixes)
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu: Cpu
    sent: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    stored: int = 0
    ceiling: float = 0.0  # batch: pgbench single-row inserts/s into a narrow table, same run
    ceiling_shaped: float = 0.0  # the same into a table shaped like `checkins`

    @property
    def rate(self) -> float:
        return self.checkins / self.seconds

    def ms_per_checkin(self, cpu_seconds: float) -> float:
        return cpu_seconds * 1000 / max(1, self.checkins)

    @property
    def cpu_ms(self) -> float:
        """Server + database CPU per check-in: less swayed by other load than the rate."""
        return self.ms_per_checkin(self.cpu.server + self.cpu.db)

    @property
    def others_share(self) -> float:
        """The share of the machine's CPUs busy with other work (see `Cpu`)."""
        return self.cpu.others / (self.cpu.window * (os.cpu_count() or 1))


# --- where the CPU went --------------------------------------------------------------------

BENCH_APP_NAME = "zhucun-bench"  # the bench's own connections, not counted as the server's


@dataclass
class Cpu:
    """CPU seconds spent during one measurement window, by whom.

    server: the server process and its descendants (uvicorn workers); db: the PostgreSQL
    backends serving the server's connections; others: the rest of the machine's busy time
    (PostgreSQL's background processes, other people's processes) — wrk and this script
    excluded. On a shared machine a large `others` means the figures are squeezed."""

    server: float
    db: float
    others: float
    window: float


@dataclass
class _Snapshot:
    at: float
    server: float
    db: dict[int, float]
    machine_busy: float
    mine: float  # this script and its reaped children (wrk)


def _proc_stats() -> dict[int, list[str]]:
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    return stats


def _cpu_of(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int, stats: dict[int, list[str]]) -> float:
    """User + system CPU time of a process and all its live descendants (Linux /proc).

    uvicorn --workers N runs a supervisor whose children (spawned) do the work; their time
    shows in the supervisor's cutime only once they exit, so each is read directly."""
    children: dict[int, list[int]] = {}
    for p, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(p)
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        if p in stats:
            total += _cpu_of(stats[p])
        todo.extend(children.get(p, []))
    return total


def _machine_busy_seconds() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def snapshot(server_pid: int, engine: Engine) -> _Snapshot:
    with engine.connect() as conn:
        pids = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND application_name <> :me"
            ),
            {"me": BENCH_APP_NAME},
        ).scalars()
        backends = set(pids)
    stats = _proc_stats()
    me = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return _Snapshot(
        at=time.monotonic(),
        server=tree_cpu_seconds(server_pid, stats),
        db={p: _cpu_of(stats[p]) for p in backends if p in stats},
        machine_busy=_machine_busy_seconds(),
        mine=me.ru_utime + me.ru_stime + reaped.ru_utime + reaped.ru_stime,
    )


def spent(before: _Snapshot, after: _Snapshot) -> Cpu:
    server = after.server - before.server
    # A backend opened during the window counts from its start; one closed during it is lost.
    db = sum(cpu - before.db.get(pid, 0.0) for pid, cpu in after.db.items())
    busy = after.machine_busy - before.machine_busy
    others = max(0.0, busy - server - db - (after.mine - before.mine))
    return Cpu(server=server, db=db, others=others, window=after.at - before.at)


# --- servers -------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn's graceful stop, workers included
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only what we started
                self.proc.wait()


def start_server(kind: str, url: str, workers: int, workdir: Path) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ZHUCUN_SECRET_KEY": SECRET,
        "ZHUCUN_SIGNING_KEY_FILE": str(workdir / "signing-key.pem"),
        "ZHUCUN_LOG_LEVEL": "WARNING",
    }
    if kind == "full":
        cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    else:
        cmd = [sys.executable, "-m", "uvicorn", "bench.bare_endpoint:app", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--no-access-log",
               "--log-level", "warning"]  # fmt: skip
    log = workdir / f"{kind}-{workers}-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(kind, proc, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{server.base}/readyz", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"the {kind} server did not start:\n{log.read_text()[-3000:]}")


# --- single check-ins under wrk -------------------------------------------------------------


def run_wrk(
    server: Server,
    members_file: Path,
    engine: Engine,
    *,
    seconds: int,
    connections: int,
    workers: int = 0,
    run: int = 0,
    check: bool = True,
) -> Figure:
    """wrk -t1 against POST /api/v1/checkins; with `check`, the run is checked (see above)."""
    nonce = secrets.token_hex(4)  # 8 hex digits: the first group of every client_id this run
    cmd = [
        "wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
        "-s", str(WRK_DIR / "checkin.lua"), f"{server.base}{SINGLE}",
        "--", str(members_file), nonce,
    ]  # fmt: skip
    before = snapshot(server.proc.pid, engine)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cpu = spent(before, snapshot(server.proc.pid, engine))
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK_RESULT "))
    r = json.loads(line.removeprefix("WRK_RESULT "))
    figure = Figure(
        endpoint=server.name,
        workers=workers,
        run=run,
        checkins=r["requests"],
        seconds=r["duration_us"] / 1e6,
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        cpu=cpu,
        sent=r["sent"],
        answers={k: r[k] for k in ("s201", "s200", "s409", "other")},
    )
    if check:
        table = bare_endpoint.TABLE if server.name == "bare" else "checkins"
        figure.stored = count_stored(engine, table, nonce)
        problems = []
        if r["non_2xx"] or r["socket_errors"]:
            problems.append(f"{r['non_2xx']} non-2xx answers, {r['socket_errors']} socket errors")
        if figure.answers["s201"] != figure.checkins:
            problems.append(f"answers {figure.answers} for {figure.checkins} requests")
        if not figure.checkins <= figure.stored <= figure.sent:
            problems.append(f"{figure.stored} rows stored, {figure.checkins}..{figure.sent} due")
        report(figure, problems)
    return figure


def count_stored(engine: Engine, table: str, nonce: str) -> int:
    """Rows of the run (its nonce leads every client_id), once requests in flight have landed;
    fails on a client_id stored twice."""
    query = text(f"SELECT count(*), count(DISTINCT client_id) FROM {table} WHERE client_id LIKE :p")
    last = -1
    while True:
        with engine.connect() as conn:
            rows, distinct = conn.execute(query, {"p": f"{nonce}-%"}).one()
        if rows != distinct:
            raise SystemExit(f"{table}: {rows - distinct} client_ids stored twice")
        if rows == last:
            return int(rows)
        last = rows
        time.sleep(0.5)


def report(f: Figure, problems: list[str]) -> None:
    print(
        f"  run {f.run} {f.endpoint:5} ×{f.workers}: sent {f.sent}, answered {f.checkins} "
        f"({f.answers}), stored {f.stored}"
        + ("" if not problems else "  FAILED: " + "; ".join(problems)),
        flush=True,
    )
    if problems:
        raise SystemExit(f"{f.endpoint}: the run was not what it claims to measure")


# --- the batch ------------------------------------------------------------------------------


def _body(
    token: str, lon: str, lat: str, rng: random.Random, ids: str, times: list[datetime]
) -> tuple[str, bytes]:
    """A batch of the member's fixes near its village, at `times`; client_ids `ids-<n>`."""
    items = [
        {
            "client_id": f"{ids}-{i:012x}",
            "captured_at": at.isoformat(),
            "latitude": round(float(lat) + (rng.random() - 0.5) * 0.004, 7),
            "longitude": round(float(lon) + (rng.random() - 0.5) * 0.004, 7),
            "accuracy_m": rng.randint(5, 60),
            "provider": "gps",
            "device_id": f"bench-{token[-8:]}",
        }
        for i, at in enumerate(times)
    ]
    return token, json.dumps({"items": items}).encode()


def batch_bodies(members_file: Path, nonce: str) -> list[tuple[str, bytes]]:
    """40 (token, body) pairs of 500 fresh fixes each (SIZES), one member per request, spread
    over the last ~2 days (an offline phone catching up)."""
    members = [ln.split() for ln in members_file.read_text().splitlines() if ln]
    rng = random.Random(nonce)
    now = datetime.now(UTC)
    bodies = []
    for r in range(SIZES.batch_requests):
        token, lon, lat = members[(r * 5 + rng.randrange(len(members))) % len(members)]
        times = [
            now - timedelta(seconds=(SIZES.batch_size - i) * 300 + rng.randint(0, 200))
            for i in range(SIZES.batch_size)
        ]
        bodies.append(_body(token, lon, lat, rng, f"{nonce}-{r:04x}-4000-8000", times))
    return bodies


async def _post_batches(base: str, bodies: list[tuple[str, bytes]], size: int) -> list[float]:
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    latencies: list[float] = []
    problems: list[str] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            token, body = queue.get_nowait()
            t0 = time.perf_counter()
            answer = await client.post(
                BATCH,
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            latencies.append(time.perf_counter() - t0)
            if answer.status_code != 200:
                problems.append(f"{answer.status_code} {answer.text[:300]}")
                continue
            results = answer.json()["results"]
            bad = [item for item in results if item["status"] != "created"]
            if bad or len(results) != size:
                created = len(results) - len(bad)
                problems.append(f"{created} of {size} created, e.g. {bad[:1]}")

    limits = httpx.Limits(max_connections=BATCH_CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(BATCH_CONCURRENCY)))
    if problems:
        raise SystemExit(f"batch: {len(problems)} requests failed, e.g. {problems[0]}")
    return latencies


def run_batch(server: Server, members_file: Path, engine: Engine, workers: int, run: int) -> Figure:
    nonce = secrets.token_hex(4)
    bodies = batch_bodies(members_file, nonce)
    before = snapshot(server.proc.pid, engine)
    t0 = time.perf_counter()
    latencies = asyncio.run(_post_batches(server.base, bodies, SIZES.batch_size))
    seconds = time.perf_counter() - t0
    cpu = spent(before, snapshot(server.proc.pid, engine))
    latencies.sort()
    fixes = SIZES.batch_requests * SIZES.batch_size
    figure = Figure(
        endpoint="batch",
        workers=workers,
        run=run,
        checkins=fixes,
        seconds=seconds,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[-1] * 1000,  # 40 requests: the slowest
        cpu=cpu,
        sent=fixes,
        answers={"created": fixes},
    )
    figure.stored = count_stored(engine, "checkins", nonce)
    report(figure, [] if figure.stored == fixes else [f"{figure.stored} of {fixes} stored"])
    return figure


def pgbench_ceiling(url: str, table: str | None, seconds: int) -> float:
    """Single-row INSERTs per second that PostgreSQL itself sustains here: pgbench with
    PGBENCH_CLIENTS clients for `seconds`, one INSERT per transaction (autocommit, fsync as
    configured), into a narrow table of its own, or into `table` (a check-in-shaped row)."""
    info = psycopg.conninfo.conninfo_to_dict(bare_endpoint.conninfo(url))
    with psycopg.connect(bare_endpoint.conninfo(url), autocommit=True) as conn:
        if table is None:
            table = "bench_pgbench_rows"
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(
                f"CREATE TABLE {table} (id bigserial PRIMARY KEY, member_id integer, "
                "client_id uuid, captured_at timestamptz, latitude float8, longitude float8)"
            )
            insert = (
                f"INSERT INTO {table} (member_id, client_id, captured_at, latitude, longitude) "
                "VALUES ((random() * 1000)::int, gen_random_uuid(), now(), 30.1, 120.2);"
            )
        else:
            insert = (
                f"INSERT INTO {table} (member_id, client_id, seq, captured_at, received_at, "
                "local_date, latitude, longitude, raw_latitude, raw_longitude, coord_system, "
                "accuracy_m, provider, is_mock, credited, flags, body_hash, prev_hash, row_hash) "
                "VALUES ((random() * 1000)::int, gen_random_uuid()::text, 0, now(), now(), "
                "current_date, 30.1, 120.2, 30.1, 120.2, 'wgs84', 10, 'gps', false, true, '', "
                "md5(random()::text), md5(random()::text), md5(random()::text));"
            )
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(insert + "\n")
        script.flush()
        cmd = ["pgbench", "-n", "-f", script.name, "-c", str(PGBENCH_CLIENTS), "-j", "2",
               "-T", str(seconds), "-h", str(info.get("host", "127.0.0.1")),
               "-p", str(info.get("port", 5432)), "-U", str(info.get("user", "postgres")),
               str(info["dbname"])]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"pgbench printed no tps:\n{done.stdout}\n{done.stderr}")


# --- one round ------------------------------------------------------------------------------


def history_bodies(members_file: Path) -> list[tuple[str, bytes]]:
    """One batch per member: `SIZES.history` fixes over the last 20 days (3 a day)."""
    members = [ln.split() for ln in members_file.read_text().splitlines() if ln]
    rng = random.Random(0)
    start = datetime.now(UTC) - timedelta(days=20)
    bodies = []
    for r, (token, lon, lat) in enumerate(members):
        times = [
            start + timedelta(hours=8 * i, seconds=rng.randint(0, 600))
            for i in range(SIZES.history)
        ]
        bodies.append(_body(token, lon, lat, rng, f"00000000-{r:04x}-4000-8000", times))
    return bodies


def load_history(url: str, workdir: Path, members_file: Path) -> None:
    """Give every member the history a member has after a few weeks (through the product's
    batch upload: real chains), then gather the planner's statistics. Measured on an empty
    table, every check-in's reads were planned for a handful of rows (prepared once per
    connection) and scanned all of a member's fixes once there were hundreds."""
    server = start_server("full", url, 1, workdir)
    try:
        asyncio.run(_post_batches(server.base, history_bodies(members_file), SIZES.history))
    finally:
        server.stop()
    analyze(url)


def analyze(url: str) -> None:
    """VACUUM ANALYZE: the statistics autovacuum keeps on a database in service, which a
    database filled in seconds has not had time for."""
    with psycopg.connect(bare_endpoint.conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def measure(
    args: argparse.Namespace,
    url: str,
    workdir: Path,
    members_file: Path,
    engine: Engine,
    workers: int,
    run: int,
) -> list[Figure]:
    """bare and full (alternating which goes first by run), each alone, then the batch."""
    order = ["bare", "full"] if run % 2 == 1 else ["full", "bare"]
    figures = []
    for kind in order:
        analyze(url)
        server = start_server(kind, url, workers, workdir)
        try:
            run_wrk(server, members_file, engine, seconds=args.warmup,
                    connections=args.connections, check=False)  # fmt: skip
            measured = run_wrk(server, members_file, engine, seconds=args.seconds,
                               connections=args.connections, workers=workers, run=run)  # fmt: skip
            figures.append(measured)
            if kind == "full":
                batch = run_batch(server, members_file, engine, workers, run)
                batch.ceiling = pgbench_ceiling(url, None, args.seconds)
                batch.ceiling_shaped = pgbench_ceiling(url, bare_endpoint.TABLE, args.seconds)
                figures.append(batch)
        finally:
            server.stop()
    return figures


def check_chains(url: str) -> None:
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as s:
        rows = s.scalar(select(func.count()).select_from(CheckIn)) or 0
        verdict = verify_chains(s)
    engine.dispose()
    state = "intact" if verdict.intact else f"BROKEN: {verdict.broken[0]}"
    print(f"{rows} check-ins stored by the full service; {verdict.chains} chains {state}")
    if not verdict.intact:
        raise SystemExit("a hash chain is broken")


# --- the table ------------------------------------------------------------------------------


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _spread(values: list[float], fmt: str) -> str:
    trio = (min(values), statistics.median(values), max(values))
    return " / ".join(format(v, fmt) for v in trio)


def _of(figures: list[Figure], endpoint: str, attr: str) -> list[float]:
    return [float(getattr(f, attr)) for f in figures if f.endpoint == endpoint]


def print_table(figures: list[Figure], workers_list: list[int], runs: int) -> None:
    print()
    print(f"{'':37}{'CPU ms per check-in':>19}")
    print(f"{'run':>3} {'workers':>7} {'endpoint':9} {'check-ins/s':>11} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'server':>9} {'db':>9} {'others':>7} {'full/bare':>9}  "
          f"targets")  # fmt: skip
    for run in range(1, runs + 1):
        for w in workers_list:
            by = {f.endpoint: f for f in figures if f.run == run and f.workers == w}
            bare, full, batch = by["bare"], by["full"], by["batch"]
            ratio = full.rate / bare.rate
            for f in (bare, full, batch):
                name = f"batch×{SIZES.batch_size}" if f.endpoint == "batch" else f.endpoint
                cells = (
                    f"{f.rate:11,.0f} {f.p50_ms:7.1f} {f.p99_ms:7.1f} "
                    f"{f.ms_per_checkin(f.cpu.server):9.2f} {f.ms_per_checkin(f.cpu.db):9.2f} "
                    f"{f.others_share:7.0%}"
                )
                if f.endpoint == "full":
                    note = (
                        f"{ratio:9.2f}  ≥ {TARGET_RATIO} {_mark(ratio >= TARGET_RATIO)}, "
                        f"p99 ≤ {TARGET_P99_MS:.0f} ms {_mark(f.p99_ms <= TARGET_P99_MS)}; "
                        f"CPU ×{f.cpu_ms / bare.cpu_ms:.1f} bare's"
                    )
                elif f.endpoint == "batch":
                    share = f.rate / f.ceiling
                    note = (
                        f"{'':9}  {share:.2f} of pgbench's {f.ceiling:,.0f} single-row "
                        f"inserts/s: ≥ {TARGET_BATCH_RATIO} {_mark(share >= TARGET_BATCH_RATIO)}"
                        f" ({f.rate / f.ceiling_shaped:.2f} of {f.ceiling_shaped:,.0f}/s into a "
                        f"check-in-shaped table; p99: the slowest of {SIZES.batch_requests})"
                    )
                else:
                    note = ""
                print(f"{run:3d} {w:7d} {name:9} {cells} {note}".rstrip())
    print(
        "server: the server's processes; db: the PostgreSQL backends serving them; others: the "
        "share of the machine's CPUs\nbusy with anything else meanwhile (PostgreSQL background "
        "work, other processes; wrk and this script excluded)."
    )
    if runs > 1:
        print()
        print(f"spread over {runs} runs (min / median / max):")
        for w in workers_list:
            mine = [f for f in figures if f.workers == w]
            ratios, cpu_ratios = [], []
            for run in range(1, runs + 1):
                by = {f.endpoint: f for f in mine if f.run == run}
                ratios.append(by["full"].rate / by["bare"].rate)
                cpu_ratios.append(by["full"].cpu_ms / by["bare"].cpu_ms)
            print(f"  workers {w}: full/bare {_spread(ratios, '.2f')} (target ≥ {TARGET_RATIO}); "
                  f"server + db CPU per check-in, full / bare: "
                  f"×{_spread(cpu_ratios, '.1f')}")  # fmt: skip
            print(f"             bare {_spread(_of(mine, 'bare', 'rate'), ',.0f')}/s, "
                  f"full {_spread(_of(mine, 'full', 'rate'), ',.0f')}/s, "
                  f"full p99 {_spread(_of(mine, 'full', 'p99_ms'), '.1f')} ms, "
                  f"batch {_spread(_of(mine, 'batch', 'rate'), ',.0f')} fixes/s, "
                  f"pgbench {_spread(_of(mine, 'batch', 'ceiling'), ',.0f')}/s")  # fmt: skip
    load = os.getloadavg()
    print(f"(load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on "
          f"{os.cpu_count()} CPUs; other processes on the machine skew the figures)")  # fmt: skip
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", default="1,2", help="process counts, e.g. 1,2")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=15, help="measured wrk duration")
    parser.add_argument("--warmup", type=int, default=3, help="wrk warm-up per server, seconds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "ZHUCUN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--smoke", action="store_true", help="20 members, 1 s per server, 1 worker")
    args = parser.parse_args()
    if args.smoke:
        global SIZES
        SIZES = SMOKE
        args.workers, args.seconds, args.warmup, args.runs = "1", 1, 1, 1
    workers_list = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="zhucun-bench-") as tmp:
        workdir = Path(tmp)
        url, dbname = create_database("postgis", args.pg_url, workdir)
        try:
            members_file = workdir / "members.txt"
            t0 = time.perf_counter()
            seed_checkin_members(url, members_file, villages=SIZES.villages, members=SIZES.members)
            bare_endpoint.create_table(url)
            load_history(url, workdir, members_file)
            print(f"seeded {SIZES.villages} villages, {SIZES.members} members with "
                  f"{SIZES.history} fixes each in {time.perf_counter() - t0:.1f} s",
                  flush=True)  # fmt: skip
            engine = make_engine(url, connect_args={"application_name": BENCH_APP_NAME})
            figures: list[Figure] = []
            try:
                for run in range(1, args.runs + 1):
                    for w in workers_list:
                        figures += measure(args, url, workdir, members_file, engine, w, run)
            finally:
                engine.dispose()
            check_chains(url)
            print_table(figures, workers_list, args.runs)
        finally:
            drop_database(args.pg_url, dbname)


if __name__ == "__main__":
    main()
