"""Benchmark the presence ledger (run from the project root).

    .venv/bin/python bench/ledger_bench.py --backend postgis [--members 10000]
    .venv/bin/python bench/ledger_bench.py --backend sqlite --members 1000

Builds a fresh database (PostGIS: a new database on ZHUCUN_BENCH_PG_URL's server, dropped at the
end; SQLite: a temporary file) with `--members` members over a quarter (2026-07-01..09-30), two or
three check-ins a day (about 2.7 million for 10,000 members; generated with generate_series on
PostgreSQL), some voids and some approved leave, then measures:

- a full ledger rebuild (target on PostGIS: <= 60 s for 10,000 members),
- GET /members/{id}/presence for one member's quarter (p95 <= 20 ms),
- GET /presence/on-post for the whole city (<= 500 ms),
- POST /checkins throughput with the ledger refresh and with it switched off (the refresh may
  cost at most 20 % of it).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shapely.geometry import MultiPolygon, box
from sqlalchemy import create_engine, text

from app.core.config import Settings
from app.core.db import make_engine, make_session_factory, session_scope
from app.core.migrate import upgrade
from app.core.policy import Policy
from app.org.boundaries import bump_boundary_revision
from app.org.models import VillageBoundary
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
VILLAGES = 2500  # 10 counties x 10 townships x 25 villages under city 4301


def village_code(i: int) -> str:
    return f"4301{i // 250 + 1:02d}{(i // 25) % 10 + 1:03d}{i % 25 + 1:03d}"


def fixes_per_day(m: int, d: int) -> int:
    h = (m * 31 + d * 17) % 20
    return 1 if h == 0 else 2 if h == 1 else 3


# --- data ----------------------------------------------------------------------------------


def seed_common(conn, members: int) -> None:
    now = datetime.now(UTC)
    insert_villages(conn, [village_code(i) for i in range(VILLAGES)])
    conn.execute(text("INSERT INTO units (name) VALUES ('市农业农村局')"))
    conn.execute(
        text(
            "INSERT INTO members (full_name, position, unit_id, created_at) "
            "VALUES (:n, 'team_member', 1, :now)"
        ),
        [{"n": f"队员{m}", "now": now} for m in range(1, members + 1)],
    )
    conn.execute(
        text(
            "INSERT INTO assignments (member_id, village_code, start_date, end_date) "
            "VALUES (:m, :v, :s, NULL)"
        ),
        [
            {"m": m, "v": village_code(m % VILLAGES), "s": Q_START - timedelta(days=30)}
            for m in range(1, members + 1)
        ],
    )
    # 50 more members, without seeded check-ins, post through the API (their hash chains start
    # empty), in the one village that has a boundary.
    conn.execute(
        text(
            "INSERT INTO members (full_name, position, unit_id, created_at) "
            "VALUES (:n, 'team_member', 1, :now)"
        ),
        [{"n": f"接口{m}", "now": now} for m in range(50)],
    )
    conn.execute(
        text(
            "INSERT INTO assignments (member_id, village_code, start_date, end_date) "
            "VALUES (:m, :v, :s, NULL)"
        ),
        [
            {"m": members + 1 + m, "v": village_code(0), "s": Q_START - timedelta(days=30)}
            for m in range(50)
        ],
    )
    users = [("city", "city", "4301", None), ("county", "county", "430101", None)]
    insert_users(conn, users + [(f"m{m}", "member", "", members + 1 + m) for m in range(50)])


PG_CHECKINS = """
INSERT INTO checkins (member_id, client_id, seq, captured_at, received_at, local_date,
    latitude, longitude, raw_latitude, raw_longitude, coord_system, accuracy_m,
    village_code, assigned_village_code, geofence, distance_m, credited, flags,
    body_hash, prev_hash, row_hash)
SELECT m, md5(m || ':' || d || ':' || k), d * 3 + k,
    ts, ts + interval '5 minutes', (:q0 + d)::date,
    28.3, 113.0, 28.3, 113.0, 'wgs84', 15.0,
    a.village_code, a.village_code, 'inside', 0.0, (m + d + k) % 50 <> 0, '',
    repeat('0', 64), repeat('0', 64), repeat('0', 64)
FROM generate_series(1, :members) m
JOIN assignments a ON a.member_id = m
CROSS JOIN generate_series(0, :days - 1) d
CROSS JOIN generate_series(1, 3) k
CROSS JOIN LATERAL (SELECT ((:q0 + d)::timestamp AT TIME ZONE 'Asia/Shanghai')
    + make_interval(hours => (ARRAY[8, 13, 17])[k], mins => (m * 7 + d * 13 + k) % 50)) t(ts)
WHERE k <= CASE (m * 31 + d * 17) % 20 WHEN 0 THEN 1 WHEN 1 THEN 2 ELSE 3 END
"""


def seed_pg(url: str, members: int) -> int:
    engine = create_engine(url)
    with engine.begin() as conn:
        seed_common(conn, members)
        conn.execute(text(PG_CHECKINS), {"q0": Q_START, "members": members, "days": Q_DAYS})
        conn.execute(
            text(
                "INSERT INTO checkin_reviews (checkin_id, action, reason, reviewer_id, at) "
                "SELECT id, 'void', 'bench', 1, now() FROM checkins WHERE id % 1000 = 7"
            )
        )
        seed_leave(conn, members)
        conn.execute(text("ANALYZE"))
        n = conn.execute(text("SELECT count(*) FROM checkins")).scalar_one()
    engine.dispose()
    return int(n)


def seed_sqlite(url: str, members: int) -> int:
    engine = make_engine(url)
    zone_shift = timedelta(hours=8)
    with engine.begin() as conn:
        seed_common(conn, members)
        rows = []
        for m in range(1, members + 1):
            v = village_code(m % VILLAGES)
            for d in range(Q_DAYS):
                day = Q_START + timedelta(days=d)
                for k in range(1, fixes_per_day(m, d) + 1):
                    hour = (8, 13, 17)[k - 1]
                    ts = datetime.combine(day, datetime.min.time(), tzinfo=UTC) - zone_shift
                    ts += timedelta(hours=hour, minutes=(m * 7 + d * 13 + k) % 50)
                    rows.append(
                        {
                            "m": m, "c": uuid.uuid4().hex, "s": d * 3 + k, "ts": ts,
                            "r": ts + timedelta(minutes=5), "ld": day, "v": v,
                            "cr": (m + d + k) % 50 != 0,
                        }
                    )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO checkins (member_id, client_id, seq, captured_at, received_at, "
                "local_date, latitude, longitude, raw_latitude, raw_longitude, coord_system, "
                "accuracy_m, village_code, assigned_village_code, geofence, distance_m, credited,"
                " flags, body_hash, prev_hash, row_hash) VALUES (:m, :c, :s, :ts, :r, :ld, 28.3,"
                " 113.0, 28.3, 113.0, 'wgs84', 15.0, :v, :v, 'inside', 0.0, :cr, '', :h, :h, :h)"
            ),
            [{**r, "h": "0" * 64} for r in rows],
        )
        conn.execute(
            text(
                "INSERT INTO checkin_reviews (checkin_id, action, reason, reviewer_id, at) "
                "SELECT id, 'void', 'bench', 1, :now FROM checkins WHERE id % 1000 = 7"
            ),
            {"now": datetime.now(UTC)},
        )
        seed_leave(conn, members)
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return len(rows)


def seed_leave(conn, members: int) -> None:
    rnd = random.Random(7)
    now = datetime.now(UTC)
    rows = []
    for m in rnd.sample(range(1, members + 1), members // 10):
        start = Q_START + timedelta(days=rnd.randrange(Q_DAYS - 5))
        n = rnd.randint(1, 5)
        rows.append({"m": m, "s": start, "e": start + timedelta(days=n - 1), "n": n, "now": now})
    conn.execute(
        text(
            "INSERT INTO leave_requests (member_id, type, start_date, end_date, days, reason, "
            "emergency, status, approver_level, created_at) VALUES "
            "(:m, 'personal', :s, :e, :n, '', false, 'approved', 'township', :now)"
        ),
        rows,
    )


# --- measurements --------------------------------------------------------------------------


def measure(url: str, members: int, checkin_posts: int) -> None:
    from starlette.testclient import TestClient

    from app.ledger import service as ledger_service
    from app.ledger.refresh import on_days_changed
    from app.main import create_app

    policy = Policy()
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        session.add(
            VillageBoundary(
                village_code=village_code(0),
                boundary=MultiPolygon([box(113.0, 28.3, 113.02, 28.32)]),
                valid_from=datetime.now(UTC) - timedelta(days=400),
            )
        )
        bump_boundary_revision(session)
    began = time.perf_counter()
    with session_scope(factory) as session:
        result = ledger_service.rebuild(session, policy)
    rebuild_s = time.perf_counter() - began
    print(
        f"rebuild: {result.days:,} ledger days of {result.members:,} members in {rebuild_s:.1f} s"
    )
    with session_scope(factory) as session:
        rnd = random.Random(3)
        times = []
        for _ in range(500):
            day = Q_START + timedelta(days=rnd.randrange(Q_DAYS))
            t0 = time.perf_counter()
            on_days_changed(session, policy, rnd.randrange(1, members + 1), [day])
            times.append((time.perf_counter() - t0) * 1000)
        session.rollback()
    print(
        f"on_days_changed (one member-day, as a review or leave decision calls it): "
        f"mean {statistics.mean(times):.2f} ms, p95 {percentile(times, 95):.2f} ms"
    )
    engine.dispose()

    settings = Settings(DATABASE_URL=url, ZHUCUN_SECRET_KEY=SECRET, ZHUCUN_LOG_LEVEL="WARNING")
    app = create_app(settings, policy)
    tokens_engine = create_engine(url)
    with tokens_engine.begin() as conn:
        tokens = sign_in(conn)
    tokens_engine.dispose()
    with TestClient(app) as client:

        def headers(name: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[name]}"}

        city = headers("city")
        params = {"from": str(Q_START), "to": str(Q_START + timedelta(days=Q_DAYS - 1))}
        rnd = random.Random(1)
        times = []
        for i in range(220):
            m = rnd.randrange(1, members + 1)
            t0 = time.perf_counter()
            r = client.get(f"/api/v1/members/{m}/presence", params=params, headers=city)
            dt = (time.perf_counter() - t0) * 1000
            assert r.status_code == 200, r.text
            assert len(r.json()["days"]) == Q_DAYS
            if i >= 20:
                times.append(dt)
        print(
            f"GET /members/{{id}}/presence (a quarter, 200 members): "
            f"p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms"
        )
        times = []
        for i in range(25):
            t0 = time.perf_counter()
            r = client.get(
                "/api/v1/presence/on-post",
                params={"date": str(Q_START + timedelta(days=40)), "scope": "4301"},
                headers=city,
            )
            dt = (time.perf_counter() - t0) * 1000
            assert r.status_code == 200, r.text
            assert r.json()["total"]["assigned"] == members + 50
            if i >= 5:
                times.append(dt)
        print(
            f"GET /presence/on-post (city, {VILLAGES} villages): "
            f"p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms"
        )
        if checkin_posts:
            bench_checkins(client, headers, checkin_posts)


def bench_checkins(client, headers, n: int) -> None:
    """POST /checkins throughput (sequential) with the ledger writes on, then off."""
    from app.ledger.refresh import DayReads

    real = DayReads.queue_writes
    now = datetime.now(UTC)

    def run(label: str, offset: int) -> float:
        bodies = []
        for i in range(n):
            member = f"m{i % 50}"
            bodies.append(
                (
                    member,
                    {
                        "client_id": str(uuid.uuid4()),
                        "captured_at": (now - timedelta(minutes=offset + i)).isoformat(),
                        "latitude": 28.31,
                        "longitude": 113.01,
                        "accuracy_m": 12.0,
                    },
                )
            )
        hdrs = {m: headers(m) for m in {b[0] for b in bodies}}
        t0 = time.perf_counter()
        for member, body in bodies:
            r = client.post("/api/v1/checkins", json=body, headers=hdrs[member])
            assert r.status_code == 201, r.text
        rate = n / (time.perf_counter() - t0)
        print(f"POST /checkins {label}: {rate:.0f} /s")
        return rate

    # Interleave on/off rounds so that warm-up and table growth weigh on both alike.
    run("warm-up (not counted)", 40_000)
    on, off = [], []
    for round_ in range(3):
        DayReads.queue_writes = real  # type: ignore[method-assign]
        on.append(run(f"with ledger refresh (round {round_ + 1})", 10_000 * round_))
        DayReads.queue_writes = lambda *a, **k: None  # type: ignore[method-assign]
        off.append(run(f"without ledger refresh (round {round_ + 1})", 10_000 * round_ + 5_000))
    DayReads.queue_writes = real  # type: ignore[method-assign]
    cost = 1 - statistics.median(on) / statistics.median(off)
    print(f"ledger refresh costs {cost:.0%} of check-in throughput (median of 3 rounds)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["postgis", "sqlite"], default="postgis")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--checkins", type=int, default=600, help="POSTs per throughput round")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--smoke", action="store_true", help="20 members, 10 POSTs: seconds")
    args = parser.parse_args()
    members, posts = (20, 10) if args.smoke else (args.members, args.checkins)
    with database(args.backend, args.keep) as url:
        t0 = time.perf_counter()
        n = (seed_pg if args.backend == "postgis" else seed_sqlite)(url, members)
        took = time.perf_counter() - t0
        print(f"{args.backend}: seeded {members:,} members, {n:,} check-ins in {took:.0f} s")
        measure(url, members, posts)


@contextmanager
def database(backend: str, keep: bool) -> Iterator[str]:
    if backend == "postgis":
        with scratch_database("ledger", keep=keep) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        yield url


if __name__ == "__main__":
    main()
