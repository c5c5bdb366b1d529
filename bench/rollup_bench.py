"""Benchmark the national rollup's compliance refresh on PostGIS (run from the project root).

    .venv/bin/python bench/rollup_bench.py [--members 10000]
    .venv/bin/python bench/rollup_bench.py --smoke   # seconds: does it still run

Seeds a quarter as bench/compliance_bench.py does (2026Q3: check-ins, the ledger rebuilt,
leave, members starting mid-quarter) in a fresh database (dropped at the end), then measures:

- `publish` (copy of the ledger days under the ledger's lock, trigger, publication),
- the first `refresh` (every member judged over the previous and the current quarter of
  today, every row written),
- a second `refresh` the same day (every member judged again, no row changed: nothing sent),
- the size of rollup_compliance per member-period.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.db import make_engine
from app.core.policy import Policy
from app.core.time import today
from app.rollup import service
from bench.compliance_bench import seed
from bench.seed import scratch_database


def measure(url: str) -> None:
    policy = Policy()
    engine = make_engine(url)
    try:
        t0 = time.perf_counter()
        with engine.begin() as connection:
            copied = service.publish(connection, "43")
        print(f"publish: {copied:,} ledger day(s) copied: {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        with engine.begin() as connection, Session(bind=connection) as session:
            first = service.refresh(session, policy, today(policy.zone))
        print(f"first refresh: {first.summary()}: {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        with engine.begin() as connection, Session(bind=connection) as session:
            again = service.refresh(session, policy, today(policy.zone))
        print(f"refresh again: {again.summary()}: {time.perf_counter() - t0:.1f} s")
        with engine.connect() as connection:
            size = connection.execute(
                text("SELECT pg_total_relation_size('rollup_compliance')")
            ).scalar_one()
        print(f"rollup_compliance: {size / max(first.members, 1):.0f} bytes a member-period")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help="30 members: seconds")
    args = parser.parse_args()
    members = 30 if args.smoke else args.members
    with scratch_database("rollup") as url:
        t0 = time.perf_counter()
        seed(url, members)
        print(f"seed + ledger rebuild: {time.perf_counter() - t0:.0f} s")
        measure(url)


if __name__ == "__main__":
    main()
