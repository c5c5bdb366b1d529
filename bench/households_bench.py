"""Benchmark households and visits on PostGIS (run from the project root).

    .venv/bin/python bench/households_bench.py [--members 10000 --per-member 10]
    .venv/bin/python bench/households_bench.py --smoke   # seconds: does it still run (CI)

Builds a fresh database on ZHUCUN_BENCH_PG_URL's server (dropped at the end): a city (4301) of
`--members` members in teams of three (one village each, ten counties), `--per-member`
households paired with each (100,000 by default), four in five visited once in the last
month (each visit a check-in too), half of those countersigned. Then measures, against
issue 19's targets, each beside a baseline run in its own process (the simplest honest
program doing the core of the job: the same rows read with one SQL statement by psycopg):

- GET /households?scope=<a county> (a page of 100, and overdue=true): p95 <= 200 ms;
- POST /visits against POST /checkins of the same members: <= a check-in + 20%;
- the annual evaluation of a county's households (入户率, 满意度, 认识度 and the three
  violations for every member of the county over the year) and GET /reports/compliance of
  the county (every member's quarter with the four rates): <= 2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text

from app.core.config import Settings
from app.core.db import make_engine, make_session_factory, session_scope
from app.core.policy import Policy
from bench.seed import SECRET, insert_users, percentile, scratch_database, sign_in

COUNTY = "430101"


def village_code(i: int) -> str:
    # 10 counties x 10 townships x up to 999 villages under city 4301
    return f"4301{i % 10 + 1:02d}{(i // 10) % 10 + 1:03d}{i // 100 + 1:03d}"


def village_lon_lat(i: int) -> tuple[float, float]:
    """The south-west corner of village i's 0.02° square (a grid of 100 columns)."""
    return 110.0 + 0.02 * (i % 100), 25.0 + 0.02 * (i // 100)


HOUSEHOLDS = """
INSERT INTO households (household_code, village_code, head_name, address, longitude, latitude,
    category, risk, phone, member_id, paired_from, created_at, updated_at)
SELECT 'H' || m || '-' || k, a.village_code, '户主' || m || '-' || k, k || '组',
    v.lon + 0.002 + 0.0015 * k, v.lat + 0.01, (ARRAY['lifted','monitored','ordinary'])[k % 3 + 1],
    (ARRAY['high','key','general'])[k % 3 + 1], '138' || lpad((m * 100 + k)::text, 8, '0'),
    m, :paired, now(), now()
FROM generate_series(1, :members) m
JOIN assignments a ON a.member_id = m
JOIN bench_village_corners v ON v.code = a.village_code
CROSS JOIN generate_series(1, :per) k
"""
PAIRINGS = """
INSERT INTO household_pairings (household_id, member_id, from_date, created_by, created_at)
SELECT id, member_id, paired_from, 'cli:bench', now() FROM households
"""
VISIT_CHECKINS = """
INSERT INTO checkins (member_id, client_id, seq, captured_at, received_at, local_date,
    latitude, longitude, raw_latitude, raw_longitude, coord_system, accuracy_m,
    village_code, assigned_village_code, geofence, distance_m, credited, flags,
    body_hash, prev_hash, row_hash)
SELECT h.member_id, md5('visit:' || h.id), 1000 + h.id, t.ts, t.ts + interval '2 minutes',
    (t.ts AT TIME ZONE 'Asia/Shanghai')::date, h.latitude, h.longitude, h.latitude,
    h.longitude, 'wgs84', 12.0, h.village_code, h.village_code, 'inside', 0.0, true, '',
    repeat('0', 64), repeat('0', 64), repeat('0', 64)
FROM households h
CROSS JOIN LATERAL (SELECT now() - make_interval(days => 1 + h.id % 28)) t(ts)
WHERE h.id % 5 <> 0
"""
VISITS = """
INSERT INTO visits (client_id, member_id, household_id, checkin_id, captured_at, local_date,
    latitude, longitude, accuracy_m, distance_m, at_household, credited, confirmation, flags,
    topics, note, problems_found, body_hash, source_key, received_at)
SELECT c.client_id, h.member_id, h.id, c.id, c.captured_at, c.local_date, h.latitude,
    h.longitude, 12.0, 3.0, true, true,
    CASE WHEN h.id % 2 = 0 THEN 'confirmed' ELSE 'unconfirmed' END, '', 'income', '', false,
    repeat('0', 64), repeat('0', 64), c.received_at
FROM households h JOIN checkins c ON c.client_id = md5('visit:' || h.id)
"""
COUNTERSIGNS = """
INSERT INTO countersigns (visit_id, salt, token_hash, code_hash, created_at, expires_at,
    answered_at, confirmed, knows_member, satisfaction, receipt, confirmer_key)
SELECT v.id, md5(v.id::text), md5('t' || v.id) || md5('u' || v.id), md5('c' || v.id),
    v.received_at, v.received_at + interval '2 days', v.received_at + interval '1 hour', true,
    v.id % 17 <> 0, 3 + v.id % 3, 'R' || lpad(v.id::text, 7, '0'), md5('k' || v.id)
FROM visits v WHERE v.confirmation = 'confirmed'
"""
LAST_VISITS = """
UPDATE households h SET last_visit_at = v.captured_at, last_visit_on = v.local_date
FROM visits v WHERE v.household_id = h.id
"""


def seed(url: str, members: int, per: int) -> None:
    now = datetime.now(UTC)
    teams = (members + 2) // 3
    paired = date.today() - timedelta(days=200)
    engine = create_engine(url)
    with engine.begin() as conn:
        codes = [village_code(v) for v in range(teams)]
        conn.execute(
            text(
                "INSERT INTO villages (code, name, township_code, county_code, created_at) "
                "VALUES (:c, :n, :t, :k, :now)"
            ),
            [
                {"c": c, "n": f"村{i}", "t": c[:9], "k": c[:6], "now": now}
                for i, c in enumerate(codes)
            ],
        )
        conn.execute(text("CREATE TABLE bench_village_corners (code text, lon float, lat float)"))
        corners = [
            {"c": c, "x": village_lon_lat(i)[0], "y": village_lon_lat(i)[1]}
            for i, c in enumerate(codes)
        ]
        conn.execute(text("INSERT INTO bench_village_corners VALUES (:c, :x, :y)"), corners)
        conn.execute(
            text(
                "INSERT INTO village_boundaries (village_code, boundary, valid_from) "
                "SELECT code, ST_Multi(ST_MakeEnvelope(lon, lat, lon + 0.02, lat + 0.02, 4326)), "
                "now() - interval '400 days' FROM bench_village_corners"
            )
        )
        conn.execute(text("UPDATE boundary_revision SET revision = revision + 1"))
        conn.execute(
            text("INSERT INTO units (name) VALUES (:n)"), [{"n": f"派驻单位{u}"} for u in range(20)]
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
                {"m": m, "v": village_code((m - 1) // 3), "s": paired - timedelta(days=30)}
                for m in range(1, members + 1)
            ],
        )
        conn.execute(text(HOUSEHOLDS), {"members": members, "per": per, "paired": paired})
        conn.execute(text(PAIRINGS))
        conn.execute(text(VISIT_CHECKINS))
        conn.execute(text(VISITS))
        conn.execute(text(COUNTERSIGNS))
        conn.execute(text(LAST_VISITS))
        conn.execute(text("DROP TABLE bench_village_corners"))
        users = [("county", "county", COUNTY, None), ("city", "city", "4301", None)]
        users += [(f"m{m}", "member", "", m) for m in range(1, min(members, 300) + 1)]
        insert_users(conn, users)
        n = conn.execute(text("SELECT count(*) FROM households")).scalar_one()
        v = conn.execute(text("SELECT count(*) FROM visits")).scalar_one()
    engine.dispose()
    print(f"seeded {members:,} members, {n:,} households, {v:,} visits")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    admin.dispose()


BASELINE = r"""
import sys, time, psycopg
url, query, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = []
with psycopg.connect(url) as conn:
    for i in range(runs + 2):
        t0 = time.perf_counter()
        rows = conn.execute(query).fetchall()
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(times[len(times) // 2], times[min(len(times) - 1, round(0.95 * (len(times) - 1)))])
"""


def baseline(url: str, query: str, runs: int) -> tuple[float, float]:
    """(p50, p95) ms of `query` read whole by psycopg in a process of its own."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    out = subprocess.run(
        [sys.executable, "-c", BASELINE, plain, query, str(runs)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def timed(fn, runs: int, warm: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for i in range(runs + warm):
        t0 = time.perf_counter()
        fn(i)
        if i >= warm:
            times.append((time.perf_counter() - t0) * 1000)
    return times


def measure(url: str, members: int, runs: int) -> None:
    from starlette.testclient import TestClient

    from app.households import findings
    from app.main import create_app

    policy = Policy()
    settings = Settings(DATABASE_URL=url, ZHUCUN_SECRET_KEY=SECRET, ZHUCUN_LOG_LEVEL="WARNING")
    app = create_app(settings, policy)
    engine = create_engine(url)
    with engine.begin() as conn:
        tokens = sign_in(conn)
        county_members = [
            m
            for (m,) in conn.execute(
                text(
                    "SELECT DISTINCT member_id FROM assignments "
                    "WHERE village_code LIKE :p ORDER BY 1"
                ),
                {"p": COUNTY + "%"},
            )
        ]
        in_county = conn.execute(
            text("SELECT count(*) FROM households WHERE village_code LIKE :p"), {"p": COUNTY + "%"}
        ).scalar_one()
        homes = {
            m: (hid, lon, lat)
            for m, hid, lon, lat in conn.execute(
                text(
                    "SELECT DISTINCT ON (member_id) member_id, id, longitude, latitude "
                    "FROM households WHERE member_id <= 300 ORDER BY member_id, id"
                )
            )
        }
    engine.dispose()
    county = {"Authorization": f"Bearer {tokens['county']}"}
    print(f"load average before measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with TestClient(app) as client:
        for label, params in (
            ("a page of 100", {"scope": COUNTY, "limit": 100}),
            ("overdue=true", {"scope": COUNTY, "limit": 100, "overdue": "true"}),
        ):

            def page(_: int, params: dict[str, object] = params) -> None:
                r = client.get("/api/v1/households", params=params, headers=county)
                assert r.status_code == 200, r.text

            times = timed(page, runs, 3)
            print(
                f"GET /households?scope={COUNTY} ({in_county:,} households in the county, "
                f"{label}): p50 {statistics.median(times):.1f} ms, p95 "
                f"{percentile(times, 95):.1f} ms (target p95 200)"
            )
        base = baseline(
            url,
            "SELECT h.*, p.* FROM households h JOIN household_pairings p ON p.household_id = h.id "
            f"WHERE h.village_code LIKE '{COUNTY}%' ORDER BY h.id LIMIT 100",
            runs,
        )
        print(
            "  baseline (one SQL statement, psycopg, own process): "
            f"p50 {base[0]:.1f} ms, p95 {base[1]:.1f} ms"
        )

        order = list(homes)[: max(2, min(len(homes), runs * 2))]
        check_times, visit_times = [], []
        now = datetime.now(UTC)
        for i, m in enumerate(order):
            hid, lon, lat = homes[m]
            auth = {"Authorization": f"Bearer {tokens[f'm{m}']}", "User-Agent": "bench"}
            fix = {
                "client_id": str(uuid.uuid4()),
                "captured_at": (now - timedelta(seconds=30)).isoformat(),
                "latitude": lat,
                "longitude": lon,
                "accuracy_m": 12.0,
            }
            t0 = time.perf_counter()
            r = client.post("/api/v1/checkins", json=fix, headers=auth)
            dt_check = (time.perf_counter() - t0) * 1000
            assert r.status_code == 201, r.text
            body = {
                **fix,
                "client_id": str(uuid.uuid4()),
                "household_id": hid,
                "topics": ["income"],
            }
            t0 = time.perf_counter()
            r = client.post("/api/v1/visits", json=body, headers=auth)
            dt_visit = (time.perf_counter() - t0) * 1000
            assert r.status_code == 201, r.text
            if i >= 2:
                check_times.append(dt_check)
                visit_times.append(dt_visit)
        c50, v50 = statistics.median(check_times), statistics.median(visit_times)
        print(
            f"POST /checkins p50 {c50:.1f} ms, p95 {percentile(check_times, 95):.1f} ms; "
            f"POST /visits p50 {v50:.1f} ms, p95 {percentile(visit_times, 95):.1f} ms: "
            f"a visit costs {v50 / c50:.2f}x a check-in (target <= 1.20; {len(visit_times)} "
            "of each, alternating, same members)"
        )

        year = date.today().year
        factory = make_session_factory(make_engine(url))

        def evaluate(_: int) -> None:
            with session_scope(factory) as session:
                start, end = date(year, 1, 1), date(year, 12, 31)
                findings.period_rates(session, policy, county_members, start, end)
                findings.findings_for_members(session, policy, county_members, start, end)

        times = timed(evaluate, max(2, runs // 5), 1)
        print(
            f"annual evaluation of county {COUNTY}'s households ({len(county_members):,} members: "
            f"入户率, 满意度, 认识度, households_overdue, visit_denied, unknown_to_household "
            f"over {year}): median {statistics.median(times):.0f} ms (target 2000)"
        )
        base = baseline(
            url,
            "SELECT p.member_id, p.household_id, p.from_date, h.risk, v.local_date, c.satisfaction "
            "FROM household_pairings p JOIN households h ON h.id = p.household_id "
            "LEFT JOIN visits v ON v.household_id = h.id "
            "LEFT JOIN countersigns c ON c.visit_id = v.id "
            f"WHERE h.village_code LIKE '{COUNTY}%'",
            max(2, runs // 5),
        )
        print(f"  baseline (its rows read by one SQL statement, own process): p50 {base[0]:.0f} ms")
        quarter = f"{year}Q{(date.today().month - 1) // 3 + 1}"

        def export(_: int) -> None:
            r = client.get(
                "/api/v1/reports/compliance",
                params={"scope": COUNTY, "period": quarter, "format": "json", "limit": 1000},
                headers=county,
            )
            assert r.status_code == 200, r.text

        times = timed(export, max(2, runs // 5), 1)
        print(
            f"GET /reports/compliance?scope={COUNTY}&period={quarter} (with the four rates): "
            f"median {statistics.median(times):.0f} ms (target 2000)"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--per-member", type=int, default=10)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--smoke", action="store_true", help="30 members, few runs: seconds")
    args = parser.parse_args()
    members = 30 if args.smoke else args.members
    runs = 4 if args.smoke else args.runs
    with scratch_database("households") as url:
        t0 = time.perf_counter()
        seed(url, members, args.per_member)
        print(f"seed: {time.perf_counter() - t0:.0f} s")
        measure(url, members, runs)
        if args.smoke:
            print("smoke run: the targets are not judged")


if __name__ == "__main__":
    main()
