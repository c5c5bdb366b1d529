"""Benchmark an export read on the reports' replica against the same export on the primary.

    .venv/bin/python bench/replica_bench.py [--members 2000] [--runs 2]
    .venv/bin/python bench/replica_bench.py --smoke   # 30 members: seconds

Makes a primary cluster (initdb) and a streaming replica of it (pg_basebackup -R) on loopback
ports, as the postgres user (runuser: run as root; tests/clusters.py), both removed at the
end; seeds the primary as bench/reports_bench.py does (a city, `--members` members' quarter of
ledger days), waits for the replica to replay it, then times GET /reports/presence?format=csv
for the city's quarter from `zhucun`'s app (uvicorn, one process) on the primary alone, and
from the same app with ZHUCUN_REPORTS_DATABASE_URL naming the replica (its /readyz must say
reports read there), alternating which goes first per run. Prints rows/s of each and the
ratio replica/primary (target >= 0.9: the replica costs the export nothing).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import create_engine

from app.core.migrate import upgrade
from bench.reports_bench import COUNTIES, Q_DAYS, Server, download, seed
from bench.seed import sign_in
from tests import clusters


def export_rate(url: str, replica_url: str | None, token: str, rows: int, work: Path) -> float:
    """Rows/s of the city's quarter as CSV from a server on `url` (reports on `replica_url`)."""
    if replica_url:
        os.environ["ZHUCUN_REPORTS_DATABASE_URL"] = replica_url
    else:
        os.environ.pop("ZHUCUN_REPORTS_DATABASE_URL", None)
    server = Server(url, work)
    try:
        ready = httpx.get(server.base + "/readyz", timeout=10).json()
        expected = "replica" if replica_url else None
        assert (ready.get("reports") or {}).get("on") == expected, ready
        took, _, _ = download(server, token, "csv", work / "p.csv")
        with (work / "p.csv").open("rb") as fh:
            assert sum(1 for _ in fh) - 1 == rows
    finally:
        server.stop()
        os.environ.pop("ZHUCUN_REPORTS_DATABASE_URL", None)
    return rows / took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="30 members, one run: seconds")
    args = parser.parse_args()
    why = clusters.available()
    if why:
        sys.exit(f"cannot make clusters here: {why}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    members, counties, runs = (30, 1, 1) if args.smoke else (args.members, COUNTIES, args.runs)
    with clusters.primary_and_replica() as (primary, replica):
        primary.sql("CREATE DATABASE zhucun")
        url, replica_url = primary.url("zhucun"), replica.url("zhucun")
        upgrade(url)
        began = time.perf_counter()
        seed(url, members, counties)
        engine = create_engine(url)
        with engine.begin() as conn:
            tokens = sign_in(conn)
        engine.dispose()
        clusters.wait_replayed(primary, replica, 600)
        rows = members * Q_DAYS
        print(f"seeded {members:,} members x {Q_DAYS} days, replayed, in "
              f"{time.perf_counter() - began:.0f} s")  # fmt: skip
        on_primary: list[float] = []
        on_replica: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for run in range(runs):
                order = [None, replica_url] if run % 2 == 0 else [replica_url, None]
                for target in order:
                    rate = export_rate(url, target, tokens["city"], rows, work)
                    (on_replica if target else on_primary).append(rate)
                    where = "replica" if target else "primary"
                    print(f"run {run + 1} {where:8s} CSV {rows:,} rows: {rate:,.0f} rows/s")
        p, r = statistics.median(on_primary), statistics.median(on_replica)
        verdict = "ok" if r >= 0.9 * p else "MISSED"
        print(
            f"median: primary {p:,.0f} rows/s, replica {r:,.0f} rows/s: "
            f"replica/primary {r / p:.2f} (target >= 0.9: {verdict})"
        )


if __name__ == "__main__":
    main()
