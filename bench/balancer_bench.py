"""Benchmark single check-ins through HAProxy (deploy/haproxy.cfg) against the same processes
reached directly.

    .venv/bin/python bench/balancer_bench.py [--seconds 10] [--runs 2]
    .venv/bin/python bench/balancer_bench.py --smoke   # 20 members, 1 s each: does it run

Seeds a fresh PostGIS database as bench/checkins_bench.py does (200 members with tokens and
history), starts two `zhucun serve --workers 1` processes and HAProxy in front of them, then
per run, alternating which goes first: `direct`, two wrk (-c16 each, bench/wrk/checkin.lua)
at once, one per process; `haproxy`, one wrk (-c32) at HAProxy's port. Prints check-ins/s of
each, p99, and haproxy/direct (target >= 0.9). Every answer must be a 201. Needs wrk and
haproxy (apt-get install wrk haproxy).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.db import make_engine  # noqa: E402
from bench import checkins_bench as cb  # noqa: E402
from bench.seed import create_database, drop_database, free_port, seed_checkin_members  # noqa: E402


@dataclass
class Front:
    """HAProxy as run_wrk's server: a name, a process and a port."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_haproxy(servers: list[cb.Server], workdir: Path) -> Front:
    port = free_port()
    env = {
        **os.environ,
        "ZHUCUN_LB_BIND": f"127.0.0.1:{port}",
        "ZHUCUN_SERVE_1": f"127.0.0.1:{servers[0].port}",
        "ZHUCUN_SERVE_2": f"127.0.0.1:{servers[1].port}",
    }
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    log = (workdir / "haproxy.log").open("wb")
    proc = subprocess.Popen(
        [haproxy, "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    front = Front("haproxy", proc, port)
    for _ in range(100):
        try:
            import urllib.request

            with urllib.request.urlopen(front.base + "/readyz", timeout=1):
                return front
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("haproxy did not come up: " + (workdir / "haproxy.log").read_text())


def direct(servers: list[cb.Server], members: Path, engine, seconds: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Both processes at once, 16 connections each: (check-ins/s together, worst p99 ms)."""
    figures: list[cb.Figure] = []

    def one(server: cb.Server) -> None:
        figures.append(
            cb.run_wrk(server, members, engine, seconds=seconds, connections=16, check=True)
        )

    threads = [threading.Thread(target=one, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(figures) == 2
    return sum(f.rate for f in figures), max(f.p99_ms for f in figures)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "ZHUCUN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    sizes = cb.SMOKE if args.smoke else cb.SIZES
    if args.smoke:
        cb.SIZES = cb.SMOKE
        args.seconds, args.runs = 1, 1
    with tempfile.TemporaryDirectory(prefix="zhucun-bench-") as tmp:
        workdir = Path(tmp)
        url, dbname = create_database("postgis", args.pg_url, workdir)
        servers: list[cb.Server] = []
        front = None
        try:
            members = workdir / "members.txt"
            seed_checkin_members(url, members, villages=sizes.villages, members=sizes.members)
            cb.load_history(url, workdir, members)
            engine = make_engine(url, connect_args={"application_name": cb.BENCH_APP_NAME})
            servers = [cb.start_server("full", url, 1, workdir) for _ in range(2)]
            front = start_haproxy(servers, workdir)
            for server in servers:  # warm-up
                cb.run_wrk(server, members, engine, seconds=1, connections=8, check=False)
            cb.run_wrk(front, members, engine, seconds=1, connections=8, check=False)  # type: ignore[arg-type]
            rates: dict[str, list[float]] = {"direct": [], "haproxy": []}
            for run in range(args.runs):
                for kind in ["direct", "haproxy"] if run % 2 == 0 else ["haproxy", "direct"]:
                    if kind == "direct":
                        rate, p99 = direct(servers, members, engine, args.seconds)
                    else:
                        f = cb.run_wrk(front, members, engine, seconds=args.seconds,  # type: ignore[arg-type]
                                       connections=32, check=True)  # fmt: skip
                        rate, p99 = f.rate, f.p99_ms
                    rates[kind].append(rate)
                    print(f"run {run + 1} {kind:8s} {rate:,.0f} check-ins/s, p99 {p99:.0f} ms",
                          flush=True)  # fmt: skip
            engine.dispose()
            d, h = statistics.median(rates["direct"]), statistics.median(rates["haproxy"])
            verdict = "ok" if h >= 0.9 * d else "MISSED"
            print(f"median: direct {d:,.0f}/s, through haproxy {h:,.0f}/s: haproxy/direct "
                  f"{h / d:.2f} (target >= 0.9: {verdict})")  # fmt: skip
        finally:
            if front is not None:
                front.proc.terminate()
                front.proc.wait(10)
            for server in servers:
                server.stop()
            drop_database(args.pg_url, dbname)


if __name__ == "__main__":
    main()
