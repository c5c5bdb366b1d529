"""A bounded soak (issue 11): members uploading check-ins and approvers deciding leave at once,
against one `zhucun serve` process on loopback, for ~10 minutes.

    .venv/bin/python bench/soak.py                      # PostGIS (ZHUCUN_TEST_PG_URL), 10 min
    .venv/bin/python bench/soak.py --minutes 2 --backend sqlite

Seeds a fresh database (villages in four townships, members with tokens, one approver per
township), starts the server, then runs for the given time:
- member threads: each posts single check-ins and, one time in five, an offline batch of 5;
- leave threads: members file one-day personal leaves (a fresh day each time);
- approver threads (one per township): read their pending queue and approve or reject each.
Prints throughput, p50/p99 per kind of request, the error count (any 5xx, transport error or
unexpected status: must be zero) and the server's RSS sampled every 10 s (must stay flat).
Afterwards the check-in chains are verified. Exits 1 on any error or a chain that fails.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
from shapely.geometry import MultiPolygon, box

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.auth.models import AuthSession, User  # noqa: E402
from app.checkins.audit import verify_chains  # noqa: E402
from app.core.db import make_engine, make_session_factory, session_scope  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.core.security import TokenClaims, hash_password, issue_token  # noqa: E402
from app.org.boundaries import bump_boundary_revision  # noqa: E402
from app.org.models import Assignment, Member, Unit, Village, VillageBoundary  # noqa: E402
from bench.checkins_bench import create_database, drop_database, free_port  # noqa: E402
from bench.seed import member_user  # noqa: E402

SECRET = "soak-secret-" + "s" * 40
TOWNSHIPS = ("430121001", "430121002", "430121003", "430121004")
VILLAGES_PER_TOWNSHIP = 3
MEMBERS_PER_VILLAGE = 5


@dataclass
class Caller:
    token: str
    lon: float = 0.0
    lat: float = 0.0
    leave_day: int = 0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float, status: int | None, ok: set[int]) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if status not in ok:
                self.errors[f"{kind} {status}"] += 1


def _token(user: User) -> str:
    claims = TokenClaims(user.id, user.role, user.scope, f"soak{user.id:028d}")
    return issue_token(claims, SECRET, 24 * 3600)


def seed(url: str) -> tuple[list[Caller], dict[str, Caller]]:
    """Villages, members (a token each) and one approver per township."""
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    members: list[Caller] = []
    approvers: dict[str, Caller] = {}
    password = hash_password("soak-password")
    with session_scope(make_session_factory(engine)) as s:
        unit = Unit(name="市农业农村局")
        s.add(unit)
        s.flush()
        users: list[tuple[User, float, float]] = []
        for t, township in enumerate(TOWNSHIPS):
            for v in range(VILLAGES_PER_TOWNSHIP):
                code = f"{township}{v + 1:03d}"
                lon, lat = 113.0 + v * 0.02, 28.0 + t * 0.02
                s.add(
                    Village(
                        code=code,
                        name=f"村{t}{v}",
                        township_code=township,
                        county_code=township[:6],
                        created_at=now,
                    )
                )
                s.flush()
                s.add(
                    VillageBoundary(
                        village_code=code,
                        boundary=MultiPolygon([box(lon, lat, lon + 0.02, lat + 0.02)]),
                        valid_from=now - timedelta(days=400),
                    )
                )
                for k in range(MEMBERS_PER_VILLAGE):
                    member = Member(
                        full_name=f"队员{t}{v}{k}",
                        position="team_member",
                        unit_id=unit.id,
                        created_at=now,
                    )
                    s.add(member)
                    s.flush()
                    s.add(
                        Assignment(
                            member_id=member.id,
                            village_code=code,
                            start_date=date.today() - timedelta(days=100),
                            end_date=None,
                        )
                    )
                    user = member_user(member, f"m{member.id}", password, now)
                    users.append((user, lon + 0.01, lat + 0.01))
            approver = User(
                username=f"t{township}",
                password_hash=password,
                full_name=f"乡镇{township}",
                role="township",
                scope=township,
                is_active=True,
                created_at=now,
            )
            users.append((approver, 0.0, 0.0))
        bump_boundary_revision(s)
        s.add_all([u for u, _, _ in users])
        s.flush()
        for user, lon, lat in users:
            s.add(
                AuthSession(
                    id=f"soak{user.id:028d}", user_id=user.id, method="password", created_at=now
                )
            )
            if user.role == "member":
                members.append(Caller(_token(user), lon, lat))
            else:
                approvers[user.scope] = Caller(_token(user))
    engine.dispose()
    return members, approvers


def _fix(caller: Caller) -> dict[str, object]:
    return {
        "client_id": str(uuid.uuid4()),
        "captured_at": (datetime.now(UTC) - timedelta(seconds=random.uniform(5, 600))).isoformat(),
        "latitude": caller.lat + random.uniform(-0.002, 0.002),
        "longitude": caller.lon + random.uniform(-0.002, 0.002),
        "accuracy_m": random.uniform(5, 30),
    }


def _timed(
    tally: Tally, kind: str, ok: set[int], call: Callable[[], httpx.Response]
) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        r = call()
    except httpx.HTTPError:
        tally.record(kind, time.perf_counter() - start, None, ok)
        return None
    tally.record(kind, time.perf_counter() - start, r.status_code, ok)
    return r


def uploader(base: str, callers: list[Caller], tally: Tally, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=30) as c:
        while not stop.is_set():
            caller = random.choice(callers)
            if random.random() < 0.2:
                batch = {"items": [_fix(caller) for _ in range(5)]}
                _timed(
                    tally,
                    "batch of 5",
                    {200},
                    partial(c.post, "/api/v1/checkins/batch", json=batch, headers=caller.headers),
                )
            else:
                body = _fix(caller)
                _timed(
                    tally,
                    "check-in",
                    {201},
                    partial(c.post, "/api/v1/checkins", json=body, headers=caller.headers),
                )


def filer(base: str, callers: list[Caller], tally: Tally, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=30) as c:
        while not stop.is_set():
            caller = random.choice(callers)
            caller.leave_day += 1  # a fresh day: leaves of one member never overlap
            day = str(date.today() + timedelta(days=caller.leave_day))
            body = {"type": "personal", "start_date": day, "end_date": day, "reason": "事假"}
            _timed(
                tally,
                "file leave",
                {201},
                partial(c.post, "/api/v1/leave-requests", json=body, headers=caller.headers),
            )
            time.sleep(0.05)


def approver(base: str, caller: Caller, tally: Tally, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=30) as c:
        while not stop.is_set():
            r = _timed(
                tally,
                "read queue",
                {200},
                lambda: c.get(
                    "/api/v1/leave-requests?status=pending&limit=50", headers=caller.headers
                ),
            )
            items = r.json()["items"] if r is not None and r.status_code == 200 else []
            for item in items:
                action = "approve" if random.random() < 0.7 else "reject"
                path = f"/api/v1/leave-requests/{item['id']}/{action}"
                _timed(
                    tally, "decide", {200}, partial(c.post, path, json={}, headers=caller.headers)
                )
            if not items:
                time.sleep(0.2)


def rss_mb(pid: int) -> float:
    """The resident memory of the server process (one uvicorn worker: the same pid)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--backend", choices=("postgis", "sqlite"), default="postgis")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "ZHUCUN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--uploaders", type=int, default=6)
    parser.add_argument("--filers", type=int, default=2)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="zhucun-soak-"))
    url, dbname = create_database(args.backend, args.pg_url, workdir)
    members, approvers = seed(url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ZHUCUN_SECRET_KEY": SECRET,
        "ZHUCUN_SIGNING_KEY_FILE": str(workdir / "signing-key.pem"),
        "ZHUCUN_LOG_LEVEL": "WARNING",
    }
    log = (workdir / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server)
        return _run(args, base, server, members, approvers, url)
    finally:
        server.terminate()
        server.wait(15)
        log.close()
        drop_database(args.pg_url, dbname)


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("zhucun serve exited on start")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("zhucun serve did not become ready")


def _run(args, base, server, members, approvers, url) -> int:  # type: ignore[no-untyped-def]
    tally = Tally()
    stop = threading.Event()
    threads = [
        threading.Thread(target=uploader, args=(base, members, tally, stop))
        for _ in range(args.uploaders)
    ]
    threads += [
        threading.Thread(target=filer, args=(base, members, tally, stop))
        for _ in range(args.filers)
    ]
    threads += [
        threading.Thread(target=approver, args=(base, caller, tally, stop))
        for caller in approvers.values()
    ]
    rss: list[tuple[float, float]] = [(0.0, rss_mb(server.pid))]
    started = time.monotonic()
    for t in threads:
        t.start()
    end = started + args.minutes * 60
    while time.monotonic() < end:
        time.sleep(min(10.0, max(0.0, end - time.monotonic())))
        elapsed = time.monotonic() - started
        rss.append((elapsed, rss_mb(server.pid)))
        done = sum(len(v) for v in tally.latencies.values())
        print(f"  {elapsed:6.0f} s  {done:7d} requests  rss {rss[-1][1]:6.1f} MB", flush=True)
    stop.set()
    for t in threads:
        t.join(60)
    seconds = time.monotonic() - started

    load = os.getloadavg()
    print(
        f"\nsoak: {args.backend}, {seconds:.0f} s, {len(members)} members, "
        f"{args.uploaders} uploaders, {args.filers} leave filers, {len(approvers)} approvers; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"
    )
    total = 0
    for kind, values in sorted(tally.latencies.items()):
        total += len(values)
        print(
            f"  {kind:12s} {len(values):7d} requests {len(values) / seconds:7.1f}/s  "
            f"p50 {percentile(values, 0.5):7.1f} ms  p99 {percentile(values, 0.99):7.1f} ms"
        )
    print(f"  {'all':12s} {total:7d} requests {total / seconds:7.1f}/s")
    errors = sum(tally.errors.values())
    print(f"errors: {errors} {dict(tally.errors) if errors else ''}")
    warm = [mb for t, mb in rss if t >= min(60.0, seconds / 4)]
    growth = (warm[-1] - warm[0]) if len(warm) > 1 else 0.0
    print(
        "server RSS (MB) every 10 s: " + " ".join(f"{mb:.0f}" for _, mb in rss) + f"\n"
        f"RSS after warm-up {warm[0]:.1f} MB -> end {warm[-1]:.1f} MB ({growth:+.1f} MB)"
    )
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        report = verify_chains(s)
    engine.dispose()
    state = "intact" if report.intact else f"BROKEN: {report.broken[0]}"
    print(f"chains: {report.chains} chains, {report.checkins} check-ins, {state}")
    return 1 if errors or not report.intact else 0


if __name__ == "__main__":
    raise SystemExit(main())
