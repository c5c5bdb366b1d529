"""Benchmark compliance on PostGIS (run from the project root).

    .venv/bin/python bench/compliance_bench.py [--members 10000]
    .venv/bin/python bench/compliance_bench.py --smoke   # seconds: does it still run (CI)

Builds a fresh database on ZHUCUN_BENCH_PG_URL's server (dropped at the end) with `--members`
members in teams of three (one village each) over a quarter (2026-07-01..09-30): check-ins
(two or three a day, about 2.5 million for 10,000 members, a few flagged), the ledger rebuilt
from them, approved leave, members who start mid-quarter, rotating teams and lunch visitors.
Then measures, against the issue's targets:

- GET /compliance for the whole city, summary and first page (<= 1 s),
- GET /compliance/members/{id} for one member's quarter (p95 <= 30 ms),
- rotation detection for every team of the city (<= 5 s).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text

from app.core.config import Settings
from app.core.db import make_engine, make_session_factory, session_scope
from app.core.policy import Policy
from bench.seed import (
    SECRET,
    insert_users,
    insert_villages,
    percentile,
    scratch_database,
    sign_in,
)

Q_START = date(2026, 7, 1)
Q_DAYS = 92
PERIOD = "2026Q3"


@dataclass(frozen=True)
class Runs:
    """How often each figure is measured (the first `warm` of each not counted)."""

    city_lists: int = 6
    member_pages: int = 220
    warm: int = 20
    rotations: int = 3


SMOKE = Runs(city_lists=2, member_pages=6, warm=2, rotations=1)


def village_code(i: int) -> str:
    # 10 counties x 10 townships x up to 999 villages under city 4301
    return f"4301{i % 10 + 1:02d}{(i // 10) % 10 + 1:03d}{i // 100 + 1:03d}"


# Teams (villages) by v % 20: 0 rotate weekly, 1 has a lunch visitor (member 0: one fix at noon
# on Tuesdays and Thursdays), the rest are present on most days, absent now and then.
CHECKINS = """
INSERT INTO checkins (member_id, client_id, seq, captured_at, received_at, local_date,
    latitude, longitude, raw_latitude, raw_longitude, coord_system, accuracy_m,
    village_code, assigned_village_code, geofence, distance_m, credited, flags,
    body_hash, prev_hash, row_hash)
SELECT m, md5(m || ':' || d || ':' || k), d * 3 + k,
    ts, ts + interval '5 minutes', (:q0 + d)::date,
    28.3, 113.0, 28.3, 113.0, 'wgs84', 15.0,
    a.village_code, a.village_code, 'inside', 0.0, true,
    CASE WHEN (m * 7 + d * 3 + k) % 997 = 0 THEN 'mock_location' ELSE '' END,
    repeat('0', 64), repeat('0', 64), repeat('0', 64)
FROM generate_series(1, :members) m
JOIN assignments a ON a.member_id = m
CROSS JOIN generate_series(0, :days - 1) d
CROSS JOIN generate_series(1, 3) k
CROSS JOIN LATERAL (SELECT ((:q0 + d)::timestamp AT TIME ZONE 'Asia/Shanghai')
    + make_interval(hours => (ARRAY[8, 18, 12])[k], mins => (m * 7 + d * 13) % 50)) t(ts)
CROSS JOIN LATERAL (SELECT (m - 1) / 3 AS v, (m - 1) % 3 AS i, d / 7 AS w) x
WHERE (:q0 + d)::date >= a.start_date
  AND CASE
    WHEN x.v % 20 = 0 THEN x.w % 3 = x.i AND k <= 2
    WHEN x.v % 20 = 1 AND x.i = 0 THEN d % 7 IN (1, 3) AND k = 3
    ELSE (m * 31 + d * 17) % 23 <> 0 AND k <= 2 + (m + d) % 2
  END
"""


def seed(url: str, members: int) -> None:
    now = datetime.now(UTC)
    teams = (members + 2) // 3
    engine = create_engine(url)
    with engine.begin() as conn:
        insert_villages(conn, [village_code(v) for v in range(teams)])
        conn.execute(
            text("INSERT INTO units (name) VALUES (:n)"),
            [{"n": f"派驻单位{u}"} for u in range(20)],
        )
        conn.execute(
            text(
                "INSERT INTO members (full_name, position, unit_id, created_at) "
                "VALUES (:n, 'team_member', :u, :now)"
            ),
            [{"n": f"队员{m}", "u": m % 20 + 1, "now": now} for m in range(1, members + 1)],
        )
        conn.execute(
            text(
                "INSERT INTO assignments (member_id, village_code, start_date, end_date) "
                "VALUES (:m, :v, :s, NULL)"
            ),
            [
                {
                    "m": m,
                    "v": village_code((m - 1) // 3),
                    # one in 25 starts mid-quarter (pro-rated)
                    "s": Q_START + timedelta(days=40 if m % 25 == 0 else -30),
                }
                for m in range(1, members + 1)
            ],
        )
        conn.execute(text(CHECKINS), {"q0": Q_START, "members": members, "days": Q_DAYS})
        rnd = random.Random(7)
        rows = []
        for m in rnd.sample(range(1, members + 1), members // 10):
            start = Q_START + timedelta(days=rnd.randrange(Q_DAYS - 15))
            n = rnd.randint(1, 12)
            kind = rnd.choice(["personal", "sick", "annual", "official"])
            rows.append({"m": m, "t": kind, "s": start, "e": start + timedelta(days=n - 1), "n": n})
        conn.execute(
            text(
                "INSERT INTO leave_requests (member_id, type, start_date, end_date, days, "
                "reason, emergency, status, approver_level, created_at) VALUES "
                "(:m, :t, :s, :e, :n, '', false, 'approved', 'county', :now)"
            ),
            [r | {"now": now} for r in rows],
        )
        insert_users(conn, [("city", "city", "4301", None)])
    engine.dispose()
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as session:
        from app.ledger import service as ledger_service

        result = ledger_service.rebuild(session, Policy())
    print(f"seeded {members:,} members, {result.days:,} ledger days")
    # The steady state autovacuum keeps a live database in (statistics, visibility map).
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    admin.dispose()


def measure(url: str, members: int, runs: Runs) -> None:
    from starlette.testclient import TestClient

    from app.compliance import reading, rules, violations
    from app.main import create_app
    from app.org.models import Member

    policy = Policy()
    settings = Settings(DATABASE_URL=url, ZHUCUN_SECRET_KEY=SECRET, ZHUCUN_LOG_LEVEL="WARNING")
    app = create_app(settings, policy)
    engine = create_engine(url)
    with engine.begin() as conn:
        city = {"Authorization": f"Bearer {sign_in(conn)['city']}"}
    engine.dispose()
    with TestClient(app) as client:
        print(f"load average before measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        times, cpu = [], []
        for i in range(runs.city_lists):
            t0, c0 = time.perf_counter(), time.process_time()
            r = client.get("/api/v1/compliance", params={"period": PERIOD}, headers=city)
            dt = (time.perf_counter() - t0) * 1000
            assert r.status_code == 200, r.text
            body = r.json()
            assert sum(body["summary"].values()) == members, body["summary"]
            if i:
                times.append(dt)
                cpu.append((time.process_time() - c0) * 1000)
        print(f"summary: {body['summary']}")
        flagged: dict[str, int] = {}
        for item in body["items"]:
            for code in item["violations"]:
                flagged[code] = flagged.get(code, 0) + 1
        print(f"violations on the first page (worst {len(body['items'])}): {flagged}")
        print(
            f"GET /compliance (city, {members:,} members, summary + first page): "
            f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms (target 1000); "
            f"CPU of the API process {statistics.median(cpu):.0f} ms (the rest is the database "
            "and waiting for a core)"
        )

        rnd = random.Random(1)
        times, cpu = [], []
        for i in range(runs.member_pages + runs.warm):
            m = rnd.randrange(1, members + 1)
            t0, c0 = time.perf_counter(), time.process_time()
            r = client.get(
                f"/api/v1/compliance/members/{m}", params={"period": PERIOD}, headers=city
            )
            dt = (time.perf_counter() - t0) * 1000
            assert r.status_code == 200, r.text
            if i >= runs.warm:
                times.append(dt)
                cpu.append((time.process_time() - c0) * 1000)
        print(
            f"GET /compliance/members/{{id}} (a quarter, {runs.member_pages} members): "
            f"p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms "
            f"(target p95 30); API process CPU p50 {statistics.median(cpu):.1f} ms"
        )

    factory = make_session_factory(make_engine(url))
    span = rules.parse_period(PERIOD)
    assert span is not None
    today = span.end + timedelta(days=1)
    times = []
    for _ in range(runs.rotations):
        with session_scope(factory) as session:
            t0 = time.perf_counter()
            loaded = reading.load(session, policy, Member.id.is_not(None), span)
            found = violations.rotations(policy, loaded, span, today)
            times.append((time.perf_counter() - t0) * 1000)
    print(
        f"rotation, every team of the city ({len(loaded.teams):,} teams): "
        f"{len(found)} rotating, median {statistics.median(times):.0f} ms (target 5000)"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument("--url", help="measure an existing database kept by --keep")
    parser.add_argument("--smoke", action="store_true", help="30 members, few runs: seconds")
    args = parser.parse_args()
    runs = SMOKE if args.smoke else Runs()
    members = 30 if args.smoke else args.members
    if args.url:
        measure(args.url, members, runs)
        return
    with scratch_database("compliance", keep=args.keep) as url:
        t0 = time.perf_counter()
        seed(url, members)
        print(f"seed + ledger rebuild: {time.perf_counter() - t0:.0f} s")
        measure(url, members, runs)


if __name__ == "__main__":
    main()
