"""Benchmark the reports on PostGIS (run from the project root):

    .venv/bin/python bench/reports_bench.py [--members 10000] [--skip-xlsx]
    .venv/bin/python bench/reports_bench.py --smoke   # one county, 30 members: seconds (CI)

Builds a fresh database on ZHUCUN_BENCH_PG_URL's server (dropped at the end): a city of 11
counties x 300 villages (boundaries of ~120 vertices), `--members` members and their ledger
over a quarter (2026-07-01..09-30, 92 days: ~75 % of member-days with counted fixes, 10 % of
members with leave), then runs the service as its own process (uvicorn) and measures:

- GET /reports/presence?format=csv for the city's quarter (target >= 100,000 rows/s),
- the same as XLSX, against XlsxWriter alone writing the same rows from memory in this
  process (target: at most 1.5x its time),
- the server's peak RSS while producing either (target < 300 MB), sampled every 20 ms,
- GET /dashboard/overview for a county of 300 villages (target <= 300 ms).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import xlsxwriter
from sqlalchemy import create_engine, text

from app.reports import presence
from bench.seed import SECRET, insert_users, insert_villages, scratch_database, sign_in

Q_START = date(2026, 7, 1)
Q_DAYS = 92
COUNTIES, TOWNSHIPS, PER_TOWNSHIP = 11, 15, 20  # 300 villages a county
ROOT = Path(__file__).resolve().parents[1]


def village_code(i: int) -> str:
    county, rest = divmod(i, TOWNSHIPS * PER_TOWNSHIP)
    township, village = divmod(rest, PER_TOWNSHIP)
    return f"4301{county + 1:02d}{township + 1:03d}{village + 1:03d}"


def outline(i: int) -> str:
    """A ragged ~120-vertex ring inside the village's 0.02-degree cell."""
    county, rest = divmod(i, TOWNSHIPS * PER_TOWNSHIP)
    cx = 112.0 + (rest % 20) * 0.02 + county * 0.45 + 0.01
    cy = 27.5 + (rest // 20) * 0.02 + 0.01
    rnd = random.Random(i)
    points = []
    for k in range(120):
        a = 2 * math.pi * k / 120
        r = 0.0085 + rnd.uniform(-0.0012, 0.0012)
        points.append(f"{cx + r * math.cos(a):.6f} {cy + r * math.sin(a):.6f}")
    points.append(points[0])
    return f"SRID=4326;MULTIPOLYGON((({', '.join(points)})))"


def seed(url: str, members: int, counties: int) -> None:
    engine = create_engine(url)
    now = datetime.now(UTC)
    villages = counties * TOWNSHIPS * PER_TOWNSHIP
    with engine.begin() as conn:
        insert_villages(conn, [village_code(i) for i in range(villages)], names="第{}村")
        conn.execute(
            text(
                "INSERT INTO village_boundaries (village_code, boundary, valid_from) "
                "VALUES (:c, ST_GeomFromEWKT(:g), :f)"
            ),
            [
                {"c": village_code(i), "g": outline(i), "f": now - timedelta(days=400)}
                for i in range(villages)
            ],
        )
        conn.execute(text("UPDATE boundary_revision SET revision = revision + 1"))
        conn.execute(
            text("INSERT INTO units (name) VALUES (:n)"),
            [{"n": f"市直单位{u:02d}"} for u in range(50)],
        )
        conn.execute(
            text(
                "INSERT INTO members (full_name, position, unit_id, created_at) "
                "SELECT '队员' || m, (ARRAY['first_secretary','team_leader','team_member'])"
                "[m % 3 + 1], m % 50 + 1, now() FROM generate_series(1, :n) m"
            ),
            {"n": members},
        )
        conn.execute(
            text(
                "INSERT INTO assignments (member_id, village_code, start_date) VALUES (:m, :v, :s)"
            ),
            [
                {"m": m, "v": village_code(m % villages), "s": Q_START - timedelta(days=30)}
                for m in range(1, members + 1)
            ],
        )
        rnd = random.Random(7)
        leave = []
        for m in rnd.sample(range(1, members + 1), members // 10):
            start = Q_START + timedelta(days=rnd.randrange(Q_DAYS - 5))
            n = rnd.randint(1, 5)
            leave.append({"m": m, "s": start, "e": start + timedelta(days=n - 1), "n": n})
        conn.execute(
            text(
                "INSERT INTO leave_requests (member_id, type, start_date, end_date, days, reason,"
                " emergency, status, approver_level, created_at) VALUES "
                "(:m, 'personal', :s, :e, :n, '', false, 'approved', 'township', now())"
            ),
            leave,
        )
        # Counted fixes on ~75 % of member-days (the day rule met on most of them).
        conn.execute(
            text(
                "INSERT INTO presence_days (member_id, day, counted_checkins, first_counted_at,"
                " last_counted_at, present, leave_id) "
                "SELECT m, :q0 + d, 1 + (m + d) % 3, "
                "(:q0 + d)::timestamp AT TIME ZONE 'Asia/Shanghai' + interval '8 hours', "
                "(:q0 + d)::timestamp AT TIME ZONE 'Asia/Shanghai' + interval '17 hours', "
                "(m + d) % 3 > 0, NULL "
                "FROM generate_series(1, :n) m CROSS JOIN generate_series(0, :days - 1) d "
                "WHERE (m * 31 + d * 17) % 4 <> 0"
            ),
            {"q0": Q_START, "n": members, "days": Q_DAYS},
        )
        conn.execute(
            text(
                "INSERT INTO presence_days (member_id, day, counted_checkins, present, leave_id) "
                "SELECT l.member_id, g::date, 0, false, l.id FROM leave_requests l "
                "CROSS JOIN generate_series(l.start_date, l.end_date, interval '1 day') g "
                "ON CONFLICT (member_id, day) DO UPDATE SET leave_id = excluded.leave_id"
            )
        )
        insert_users(conn, [("city", "city", "4301", None), ("county", "county", "430101", None)])
        conn.execute(text("ANALYZE"))
    engine.dispose()


# --- the server and its memory ---------------------------------------------------------------


class Server:
    def __init__(self, url: str, workdir: Path) -> None:
        self.port = 18700 + os.getpid() % 1000
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "ZHUCUN_SECRET_KEY": SECRET,
            "ZHUCUN_SIGNING_KEY_FILE": str(workdir / "signing.pem"),
            "ZHUCUN_LOG_LEVEL": "WARNING",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.asgi:app", "--host", "127.0.0.1",
             "--port", str(self.port), "--no-access-log", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                httpx.get(self.base + "/healthz", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class PeakRss:
    """Samples the server's RSS every 20 ms while a request runs."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak, self._stop = server, 0.0, threading.Event()
        self.before = server.rss_mb()

    def __enter__(self) -> PeakRss:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_mb())
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def download(server: Server, token: str, fmt: str, target: Path) -> tuple[float, float, float]:
    """(seconds to the last byte, peak RSS MB, RSS before MB)."""
    params = {"from": str(Q_START), "to": str(Q_START + timedelta(days=Q_DAYS - 1)), "format": fmt}
    with PeakRss(server) as rss:
        began = time.perf_counter()
        with httpx.stream(
            "GET", server.base + "/api/v1/reports/presence", params=params,
            headers={"Authorization": f"Bearer {token}"}, timeout=600,
        ) as answer, target.open("wb") as fh:  # fmt: skip
            assert answer.status_code == 200, answer.read()
            for chunk in answer.iter_bytes(1 << 20):
                fh.write(chunk)
        took = time.perf_counter() - began
    return took, rss.peak, rss.before


def xlsx_alone(csv_path: Path, target: Path) -> tuple[int, float]:
    """XlsxWriter alone: the same rows (as the CSV holds them, typed) from memory."""
    interned: dict[str, object] = {}
    rows = []
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        for r in reader:
            row = [interned.setdefault(v, v) for v in r]
            row[0] = int(r[0])
            row[8] = interned.setdefault("d" + r[8], date.fromisoformat(r[8]))
            row[11] = int(r[11])
            row[12] = int(r[12]) if r[12] else None
            rows.append(tuple(row))
    began = time.perf_counter()
    book = xlsxwriter.Workbook(
        str(target),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
         "default_date_format": "yyyy-mm-dd"},
    )  # fmt: skip
    sheet = book.add_worksheet("驻村考勤明细")
    for c, col in enumerate(presence.COLUMNS):
        sheet.set_column(c, c, col.width)
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, header)
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, row)
    book.close()
    return len(rows), time.perf_counter() - began


def load_rows(csv_path: Path) -> tuple[list[str], list[tuple[object, ...]]]:
    """The exported rows, typed, in memory (values shared, as a writer would get them)."""
    interned: dict[str, object] = {}
    rows = []
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        for r in reader:
            row = [interned.setdefault(v, v) for v in r]
            row[0] = int(r[0])
            row[8] = interned.setdefault("d" + r[8], date.fromisoformat(r[8]))
            row[11] = int(r[11])
            row[12] = int(r[12]) if r[12] else None
            rows.append(tuple(row))
    return header, rows


def csv_alone(header: list[str], rows: list[tuple[object, ...]], target: Path) -> float:
    """Python's csv module alone writing the rows from memory: this machine's ceiling now."""
    began = time.perf_counter()
    with target.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="one county, 30 members: seconds")
    args = parser.parse_args()
    # A terminated run still stops its server and drops its database (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    members, counties, dashboards = (30, 1, 2) if args.smoke else (args.members, COUNTIES, 20)
    with scratch_database("reports") as url:
        began = time.perf_counter()
        seed(url, members, counties)
        rows = members * Q_DAYS
        took_seed = time.perf_counter() - began
        print(f"seeded {members:,} members x {Q_DAYS} days in {took_seed:.0f} s")
        engine = create_engine(url)
        with engine.begin() as conn:
            tokens = sign_in(conn)
        engine.dispose()
        measure(url, rows, tokens["city"], tokens["county"], dashboards, args.skip_xlsx)


def measure(url: str, rows: int, city: str, county: str, dashboards: int, skip_xlsx: bool) -> None:
    """The server started on `url`, its exports and map data timed; stopped at the end."""
    server = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            server = Server(url, work)
            took, peak, before = download(server, city, "csv", work / "p.csv")
            with (work / "p.csv").open("rb") as fh:
                lines = sum(1 for _ in fh) - 1
            assert lines == rows, (lines, rows)
            header, in_memory = load_rows(work / "p.csv")
            alone_csv = csv_alone(header, in_memory, work / "alone.csv")
            del in_memory
            print(
                f"CSV  {rows:,} rows in {took:.1f} s: {rows / took:,.0f} rows/s "
                f"(target >= 100,000); server RSS {before:.0f} -> peak {peak:.0f} MB; "
                f"the csv module alone from memory: {rows / alone_csv:,.0f} rows/s "
                f"(ratio {took / alone_csv:.1f})"
            )
            if not skip_xlsx:
                took_x, peak_x, before_x = download(server, city, "xlsx", work / "p.xlsx")
                n, alone = xlsx_alone(work / "p.csv", work / "alone.xlsx")
                print(
                    f"XLSX {rows:,} rows in {took_x:.1f} s ({rows / took_x:,.0f} rows/s); "
                    f"XlsxWriter alone from memory {alone:.1f} s ({n / alone:,.0f} rows/s): "
                    f"ratio {took_x / alone:.2f} (target <= 1.5); "
                    f"server RSS {before_x:.0f} -> peak {peak_x:.0f} MB (target < 300)"
                )
            times = []
            client = httpx.Client(
                base_url=server.base, headers={"Authorization": f"Bearer {county}"}
            )
            for i in range(dashboards + 3):
                t0 = time.perf_counter()
                answer = client.get("/api/v1/dashboard/overview", params={"date": "2026-09-15"})
                dt = (time.perf_counter() - t0) * 1000
                assert answer.status_code == 200, answer.text
                assert len(answer.json()["villages"]) == TOWNSHIPS * PER_TOWNSHIP
                if i >= 3:
                    times.append(dt)
            size = len(answer.content)
            print(
                f"dashboard overview, 300 villages ({size / 1024:.0f} KiB): "
                f"p50 {statistics.median(times):.0f} ms, max {max(times):.0f} ms (target <= 300)"
            )
            client.close()
            print(f"server peak RSS over the whole run (VmHWM): {hwm(server):.0f} MB")
    finally:
        if server is not None:
            server.stop()


def hwm(server: Server) -> float:
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
