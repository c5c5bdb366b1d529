"""Benchmark a county's satisfaction wave on PostGIS (run from the project root).

    .venv/bin/python bench/surveys_bench.py [--answers 10000] [--keep]
    .venv/bin/python bench/surveys_bench.py --smoke   # seconds: does it still run (CI)

Builds a fresh database on ZHUCUN_BENCH_PG_URL's server (dropped at the end): a county of 300
villages with two members each, a wave opened through the API (30 codes a village, derived and
hashed by the service), and `--answers` answers seeded straight into the tables (varied
answers over the window, a bought burst in a few villages). Then, through the app:

- GET /surveys/{id}/results, anomaly checks included (target <= 1 s);
- POST /public/surveys/{code}, one card each (target p95 <= 50 ms).

Each figure is also shown as a ratio against a baseline run in its own process: the simplest
honest program doing the core of the job with psycopg and nothing else (for the results, read
the answers and count each village's share of 4–5; for answering, lock the code's row by
hash, insert the answer, mark the code, commit).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text

from app.core.config import Settings
from app.core.policy import Policy
from app.surveys import rules
from bench.seed import SECRET, insert_users, insert_villages, percentile, scratch_database, sign_in

COUNTY = "430121"


def village_code(i: int) -> str:
    return f"{COUNTY}{i // 30 + 1:03d}{i % 30 + 1:03d}"


def seed_county(url: str, villages: int) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        insert_villages(conn, [village_code(i) for i in range(villages)])
        conn.execute(text("INSERT INTO units (name) VALUES ('县农业农村局')"))
        conn.execute(
            text(
                "INSERT INTO members (full_name, position, unit_id, created_at) "
                "SELECT '队员' || m, 'team_member', 1, now() FROM generate_series(1, :n) m"
            ),
            {"n": 2 * villages},
        )
        start = datetime.now(UTC).date() - timedelta(days=100)
        conn.execute(
            text(
                "INSERT INTO assignments (member_id, village_code, start_date, end_date) "
                "VALUES (:m, :v, :s, NULL)"
            ),
            [
                {"m": m, "v": village_code((m - 1) // 2), "s": start}
                for m in range(1, 2 * villages + 1)
            ],
        )
        insert_users(conn, [("county", "county", COUNTY, None)])
    engine.dispose()


def seed_answers(url: str, survey_id: int, answers: int, opens: datetime) -> None:
    """`answers` answered cards spread over the villages: varied honest answers over eight
    days of working hours, and in every 25th village 8 identical '5's from one device."""
    rng = random.Random(20)
    engine = create_engine(url)
    with engine.begin() as conn:
        codes = conn.execute(
            text("SELECT id, village_code FROM survey_codes WHERE survey_id = :s ORDER BY id"),
            {"s": survey_id},
        ).all()
        chosen = codes[:answers] if answers <= len(codes) else codes
        # Days of the wave at local midnight: honest answers come between 09:00 and 18:00.
        zone = Policy().zone
        midnight = opens.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        rows = []
        for n, (code_id, village) in enumerate(chosen):
            bought = int(village[-3:]) % 25 == 0 and n % 30 < 8
            if bought:
                vector, device = "5,5,5,5,5", "bought-" + village
                at = midnight + timedelta(days=2, hours=20, seconds=15 * (n % 30))
            else:
                vector = ",".join(
                    rng.choice(["1", "2", "3", "4", "4", "5", "5", "u"]) for _ in range(5)
                )
                device = f"phone-{n}"
                at = midnight + timedelta(days=1 + rng.randrange(8), hours=9 + rng.random() * 9)
            rows.append(
                {
                    "s": survey_id,
                    "c": code_id,
                    "v": village,
                    "at": at,
                    "vec": vector,
                    "dev": rules.keyed(SECRET, "bench", device),
                    "r": f"R{n:07d}"[-8:],
                }
            )
        conn.execute(
            text(
                "INSERT INTO survey_answers (survey_id, code_id, village_code, answered_at, "
                "vector, comment, device, receipt) VALUES (:s, :c, :v, :at, :vec, '', :dev, :r)"
            ),
            rows,
        )
        conn.execute(
            text(
                "UPDATE survey_codes SET answered_at = a.answered_at FROM survey_answers a "
                "WHERE a.code_id = survey_codes.id"
            )
        )
        conn.execute(text("ANALYZE"))
    engine.dispose()


# The baselines: plain psycopg in a process of their own, doing the core of each job.
BASELINE_RESULTS = """
import json, sys, time, psycopg
url, survey_id, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
times = []
with psycopg.connect(url) as conn:
    for _ in range(runs):
        t0 = time.perf_counter()
        share = {}
        rows = conn.execute(
            "SELECT village_code, vector FROM survey_answers WHERE survey_id = %s", (survey_id,)
        ).fetchall()
        for village, vector in rows:
            n, yes = share.get(village, (0, 0))
            for v in vector.split(",")[3:]:
                if v != "u":
                    n, yes = n + 1, yes + (v in "45")
            share[village] = (n, yes)
        conn.rollback()
        times.append((time.perf_counter() - t0) * 1000)
print(json.dumps(times))
"""

BASELINE_ANSWER = """
import json, sys, time, psycopg
url, hashes = sys.argv[1], json.loads(sys.stdin.read())
times = []
with psycopg.connect(url) as conn:
    for h in hashes:
        t0 = time.perf_counter()
        code_id, survey_id, village = conn.execute(
            "SELECT id, survey_id, village_code FROM survey_codes WHERE code_hash = %s "
            "FOR UPDATE", (h,)
        ).fetchone()
        conn.execute(
            "INSERT INTO survey_answers (survey_id, code_id, village_code, answered_at, vector,"
            " comment, device, receipt) VALUES (%s, %s, %s, now(), '4,4,4,4,4', '', 'x', 'R')",
            (survey_id, code_id, village),
        )
        conn.execute("UPDATE survey_codes SET answered_at = now() WHERE id = %s", (code_id,))
        conn.commit()
        times.append((time.perf_counter() - t0) * 1000)
print(json.dumps(times))
"""


def psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def baseline(program: str, args: list[str], stdin: str = "") -> list[float]:
    out = subprocess.run(
        [sys.executable, "-c", program, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(out.stdout))


def measure(url: str, villages: int, answers: int, runs: int, posts: int) -> None:
    from starlette.testclient import TestClient

    from app.main import create_app

    settings = Settings(DATABASE_URL=url, ZHUCUN_SECRET_KEY=SECRET, ZHUCUN_LOG_LEVEL="WARNING")
    # The bench answers from one address: the per-address limit is lifted for it.
    policy = Policy.model_validate({"surveys": {"max_answers_per_address": 10**9}})
    app = create_app(settings, policy)
    engine = create_engine(url)
    with engine.begin() as conn:
        headers = {"Authorization": f"Bearer {sign_in(conn)['county']}"}
    engine.dispose()
    opens = datetime.now(UTC) - timedelta(days=10)
    body = {
        "scope": COUNTY,
        "title": "全县满意度测评",
        "opens_at": opens.isoformat(),
        "closes_at": (opens + timedelta(days=20)).isoformat(),
        "codes_per_village": 40,
    }
    with TestClient(app) as client:
        t0 = time.perf_counter()
        r = client.post("/api/v1/surveys", json=body, headers=headers)
        assert r.status_code == 201, r.text
        wave = r.json()
        print(
            f"POST /surveys over {villages} villages ({villages * 40:,} codes made): "
            f"{(time.perf_counter() - t0) * 1000:.0f} ms"
        )
        seed_answers(url, wave["id"], answers, opens)
        found: dict = {}

        def results() -> None:
            r = client.get(f"/api/v1/surveys/{wave['id']}/results", headers=headers)
            assert r.status_code == 200, r.text
            found.update(r.json())

        results()  # warm-up
        took = []
        for _ in range(runs):
            t0 = time.perf_counter()
            results()
            took.append((time.perf_counter() - t0) * 1000)
        anomalies = sum(len(v["anomalies"]) for v in found["villages"])
        stored = sum(v["answers"] for v in found["villages"])
        base = baseline(BASELINE_RESULTS, [psycopg_url(url), str(wave["id"]), str(runs)])
        med, base_med = statistics.median(took), statistics.median(base)
        verdict = "ok" if med <= 1000 else "OVER TARGET"
        print(
            f"GET /surveys/{{id}}/results, {stored:,} answers in {len(found['villages'])} "
            f"villages, {anomalies} anomalies: median {med:.0f} ms, max {max(took):.0f} ms over "
            f"{runs} runs (target <= 1000 ms: {verdict}); baseline (psycopg, shares only) "
            f"median {base_med:.1f} ms: ratio {med / base_med:.1f}x"
        )

        # Answering: cards not yet answered, one request each.
        engine = create_engine(url)
        with engine.connect() as conn:
            spare = conn.execute(
                text(
                    "SELECT village_code, seq, salt FROM survey_codes WHERE survey_id = :s "
                    "AND answered_at IS NULL ORDER BY id LIMIT :n"
                ),
                {"s": wave["id"], "n": 2 * posts + 1},
            ).all()
        engine.dispose()
        codes = [rules.derive_code(SECRET, wave["id"], v, q, s) for v, q, s in spare]
        mine, theirs = codes[: posts + 1], codes[posts + 1 :]
        answer = {"answers": {"q1": 4, "q2": 4, "q3": 5, "q4": 4, "q5": "unknown"}}
        times = []
        for n, code in enumerate(mine):
            t0 = time.perf_counter()
            r = client.post(f"/api/v1/public/surveys/{code}", json=answer)
            if n:  # the first is a warm-up
                times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
        hashes = [rules.code_hash(SECRET, c) for c in theirs]
        base = baseline(BASELINE_ANSWER, [psycopg_url(url)], json.dumps(hashes))
        p95, base_p95 = percentile(times, 95), percentile(base, 95)
        verdict = "ok" if p95 <= 50 else "OVER TARGET"
        print(
            f"POST /public/surveys/{{code}}: p95 {p95:.1f} ms, median "
            f"{statistics.median(times):.1f} ms over {len(times)} answers (target p95 <= 50 ms: "
            f"{verdict}); baseline (psycopg: lock, insert, mark, commit) p95 {base_p95:.1f} ms: "
            f"ratio {p95 / base_p95:.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--smoke", action="store_true", help="a few villages: seconds")
    args = parser.parse_args()
    if args.smoke:
        villages, answers, runs, posts = 6, 120, 1, 10
    else:
        villages, answers, runs, posts = 300, args.answers, 5, 200
    with scratch_database("surveys", keep=args.keep) as url:
        seed_county(url, villages)
        print(f"load average before measuring: {os.getloadavg()[0]:.1f} (cores: {os.cpu_count()})")
        measure(url, villages, answers, runs, posts)
        if args.smoke:
            print("smoke run: the targets are not judged")


if __name__ == "__main__":
    main()
