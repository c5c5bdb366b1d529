"""Benchmark what privacy costs (issue 21; run from the project root).

    .venv/bin/python bench/privacy_bench.py [--fixes 1000000] [--reads 400] [--keep]
    .venv/bin/python bench/privacy_bench.py --smoke   # seconds: does it still run (CI)

On fresh PostGIS databases on ZHUCUN_BENCH_PG_URL's server (dropped at the end):

1. The access log on `GET /checkins` (a county user reading a member's page of 50 fixes,
   through the real app): p95 with the access-log entry vs p95 of the same requests with the
   entry switched off, interleaved in blocks (target: ≤ 5 % more).
2. `zhucun privacy purge` of `--fixes` fixes (real hashes: the purge verifies each link before
   it nulls it) against the baseline — one bare `UPDATE … SET latitude = NULL, …` of the same
   rows on an identical copy of the database, run by psycopg in its own process (target: 1,000,000
   in ≤ 60 s). Meanwhile a member uploads check-ins through the app; the longest upload during
   the purge is held against the longest before it (target: no upload blocked > 100 ms).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text

from bench.seed import (
    PG_URL,
    ROOT,
    SECRET,
    insert_users,
    insert_villages,
    percentile,
    scratch_database,
    sign_in,
)

VILLAGE = "430121001001"
MEMBERS = 200
COPY_COLUMNS = (
    "member_id, client_id, seq, captured_at, received_at, local_date, latitude, longitude, "
    "raw_latitude, raw_longitude, coord_system, accuracy_m, altitude_m, speed_mps, heading_deg, "
    "village_code, assigned_village_code, geofence, distance_m, credited, flags, body_hash, "
    "prev_hash, row_hash"
)


def seed(url: str, fixes: int) -> dict[str, str]:
    """MEMBERS members in one village, `fixes` old fixes (200 to 400 days old) spread over
    them with true row hashes, and a county user; the tokens by username."""
    from app.checkins import hashing

    engine = create_engine(url)
    with engine.begin() as conn:
        insert_villages(conn, [VILLAGE])
        conn.execute(
            text(
                "INSERT INTO village_boundaries (village_code, boundary, valid_from) VALUES "
                "(:v, ST_Multi(ST_MakeEnvelope(113.0, 28.3, 113.02, 28.32, 4326)), "
                "now() - interval '500 days')"
            ),
            {"v": VILLAGE},
        )
        conn.execute(text("INSERT INTO units (name) VALUES ('市农业农村局')"))
        conn.execute(
            text(
                "INSERT INTO members (full_name, position, unit_id, created_at) "
                "SELECT '队员' || m, 'team_member', 1, now() FROM generate_series(1, :n) m"
            ),
            {"n": MEMBERS},
        )
        conn.execute(
            text(
                "INSERT INTO assignments (member_id, village_code, start_date, end_date) "
                "SELECT m, :v, current_date - 500, NULL FROM generate_series(1, :n) m"
            ),
            {"v": VILLAGE, "n": MEMBERS},
        )
        insert_users(
            conn,
            [("county", "county", "430121", None)]
            + [(f"m{m}", "member", "", m) for m in range(1, MEMBERS + 1)],
        )
        tokens = sign_in(conn)
    now = datetime.now(UTC)
    per_member = max(1, fixes // MEMBERS)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY checkins ({COPY_COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            made = 0
            for m in range(1, MEMBERS + 1):
                for k in range(per_member):
                    if made >= fixes:
                        break
                    at = now - timedelta(days=400) + timedelta(minutes=(k * 270) % 288_000)
                    row = {
                        "member_id": m,
                        "seq": k + 1,
                        "client_id": str(uuid.UUID(int=m << 64 | k)),
                        "captured_at": at,
                        "received_at": at + timedelta(seconds=5),
                        "local_date": at.date(),
                        "latitude": 28.31 + (k % 97) * 1e-5,
                        "longitude": 113.01 + (k % 89) * 1e-5,
                        "raw_latitude": 28.31 + (k % 97) * 1e-5,
                        "raw_longitude": 113.01 + (k % 89) * 1e-5,
                        "coord_system": "wgs84",
                        "accuracy_m": 15.0,
                        "altitude_m": 52.5,
                        "speed_mps": 0.3,
                        "heading_deg": 90.0,
                        "provider": None,
                        "is_mock": None,
                        "device_id": None,
                        "roll_call_id": None,
                        "village_code": VILLAGE,
                        "assigned_village_code": VILLAGE,
                        "boundary_id": None,
                        "geofence": "inside",
                        "distance_m": 0.0,
                        "credited": True,
                        "flags": "",
                        "body_hash": hashlib.sha256(str(k).encode()).hexdigest(),
                        "prev_hash": "0" * 64,
                    }
                    row["row_hash"] = hashing.row_hash(row)
                    copy.write_row(
                        [row[c.strip()] for c in COPY_COLUMNS.split(",")]  # in COPY order
                    )
                    made += 1
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO checkin_chain_heads (member_id, seq, last_hash, last_device_id) "
                "SELECT member_id, max(seq), '0', NULL FROM checkins GROUP BY member_id"
            )
        )
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return tokens


def measure_reads(url: str, tokens: dict[str, str], reads: int) -> tuple[float, float]:
    """p95 (ms) of GET /checkins?member_id=…&limit=50 by the county: (logged, not logged)."""
    from starlette.testclient import TestClient

    import app.checkins.router as checkins_router
    from app.core.config import Settings
    from app.core.policy import Policy
    from app.main import create_app

    settings = Settings(DATABASE_URL=url, ZHUCUN_SECRET_KEY=SECRET, ZHUCUN_LOG_LEVEL="WARNING")
    logged_read = checkins_router.log_read
    times: dict[bool, list[float]] = {True: [], False: []}
    headers = {"Authorization": f"Bearer {tokens['county']}"}
    with TestClient(create_app(settings, Policy())) as client:
        for k in range(20):  # warm-up
            client.get(f"/api/v1/checkins?member_id={k % MEMBERS + 1}&limit=50", headers=headers)
        for k in range(reads):  # alternate request by request: the machine's drift cancels
            for logged in (k % 2 == 0, k % 2 == 1):
                checkins_router.log_read = (  # type: ignore[assignment]
                    logged_read if logged else (lambda *a, **kw: False)
                )
                began = time.perf_counter()
                answer = client.get(
                    f"/api/v1/checkins?member_id={k % MEMBERS + 1}&limit=50", headers=headers
                )
                times[logged].append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, answer.text
    checkins_router.log_read = logged_read
    return percentile(times[True], 95), percentile(times[False], 95)


BASELINE = """
import sys, time, psycopg
url, cutoff = sys.argv[1], sys.argv[2]
with psycopg.connect(url) as conn:
    began = time.perf_counter()
    conn.execute(
        "UPDATE checkins SET latitude = NULL, longitude = NULL, raw_latitude = NULL, "
        "raw_longitude = NULL, altitude_m = NULL, speed_mps = NULL, heading_deg = NULL, "
        "wifi = NULL, purged_at = now() WHERE captured_at < %s", (cutoff,))
    conn.commit()
    print(time.perf_counter() - began)
"""


def baseline_purge(template: str, cutoff: datetime) -> float:
    """The bare UPDATE on a copy of the seeded database, in its own process (seconds)."""
    name = f"{template}_copy"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        url = PG_URL.rsplit("/", 1)[0].replace("postgresql+psycopg", "postgresql") + f"/{name}"
        out = subprocess.run(
            [sys.executable, "-c", BASELINE, url, cutoff.isoformat()],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(out.stdout.strip())
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


PURGE = """
import sys, time
from app.core.db import make_engine, make_session_factory
from app.core.policy import Policy
from app.privacy.purge import purge
engine = make_engine(sys.argv[1])
began = time.perf_counter()
report = purge(make_session_factory(engine), Policy())
print(report.purged, report.longest_batch_s, time.perf_counter() - began)
"""


def measure_purge(url: str, tokens: dict[str, str]) -> tuple[float, int, float, float, float]:
    """(seconds, fixes purged, longest batch, longest upload before, longest upload during)."""
    from starlette.testclient import TestClient

    from app.core.config import Settings
    from app.core.policy import Policy
    from app.main import create_app

    settings = Settings(DATABASE_URL=url, ZHUCUN_SECRET_KEY=SECRET, ZHUCUN_LOG_LEVEL="WARNING")
    stop = threading.Event()
    during: list[float] = []
    headers = {"Authorization": f"Bearer {tokens['m1']}"}

    def upload(client: TestClient, into: list[float]) -> None:
        body = {
            "client_id": str(uuid.uuid4()),
            "captured_at": datetime.now(UTC).isoformat(),
            "latitude": 28.31,
            "longitude": 113.01,
            "accuracy_m": 10.0,
        }
        began = time.perf_counter()
        answer = client.post("/api/v1/checkins", json=body, headers=headers)
        into.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 201, answer.text

    with TestClient(create_app(settings, Policy())) as client:
        before: list[float] = []
        for _ in range(20):
            upload(client, before)

        def uploader() -> None:
            while not stop.is_set():
                upload(client, during)
                time.sleep(0.05)

        thread = threading.Thread(target=uploader)
        thread.start()
        try:  # its own process, as `zhucun daily` runs it: no lock on the server's GIL
            out = subprocess.run(
                [sys.executable, "-c", PURGE, url],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout.strip()
        finally:
            stop.set()
            thread.join()
    purged, longest, took = out.split()
    return float(took), int(purged), float(longest), max(before[5:]), max(during or [0.0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixes", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=400)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; targets not judged")
    args = parser.parse_args()
    fixes, reads = (2000, 40) if args.smoke else (args.fixes, args.reads)
    with scratch_database("privacy", keep=args.keep) as url:
        began = time.perf_counter()
        tokens = seed(url, fixes)
        print(f"seeded {fixes} fixes of {MEMBERS} members in {time.perf_counter() - began:.1f} s")
        logged, bare = measure_reads(url, tokens, reads)
        print(
            f"GET /checkins p95: {logged:.1f} ms with the access log, {bare:.1f} ms without "
            f"(ratio {logged / bare:.3f}; target <= 1.05)"
        )
        cutoff = datetime.now(UTC) - timedelta(days=180)
        base = baseline_purge(url.rsplit("/", 1)[1], cutoff)
        took, purged, longest, upload_before, upload_during = measure_purge(url, tokens)
        print(
            f"purge: {purged} fixes in {took:.1f} s ({purged / took:,.0f}/s); baseline bare "
            f"UPDATE {base:.1f} s (ratio {took / base:.2f}); scaled to 1,000,000: "
            f"{took * 1_000_000 / max(purged, 1):.0f} s (target <= 60 s)"
        )
        print(
            f"uploads during the purge: longest {upload_during:.0f} ms (before it: "
            f"{upload_before:.0f} ms); longest purge batch {longest * 1000:.0f} ms "
            "(target: no upload blocked > 100 ms)"
        )
        if args.smoke:
            print("smoke run: the targets are not judged")
        _ = statistics  # figures only


if __name__ == "__main__":
    main()
