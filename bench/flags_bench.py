"""How right the check-in flags are: false alarms on genuine phones, catches on faked days.

    .venv/bin/python bench/flags_bench.py [--members 40] [--days 28] [--seed 7]

Generates realistic days of fixes for members who really live in their village, and faked
days of the kinds the seed document and the field know, uploads every day through the real
API (the batch route, in-process, on a temporary SQLite file; the judgement is the same code
on both backends, held together by the test suite) and counts, per flag, the share of
genuine days that raise it (false alarms) and the share of each kind of faked day that raises
it (catches). The days are generated, not recorded: the model of each is written down below,
so a reader can judge what the figures are worth.

Genuine day (one member, one local day, 07:00-21:00):
- home (the team's dormitory) and the committee office, a few hundred metres apart inside the
  village; visits to households anywhere in the village, walked (1.2 m/s) or by motorbike
  (10 m/s, county roads);
- GPS fixes: the true position plus Gaussian noise of sigma = accuracy / 2, accuracy drawn from
  4-35 m, altitude around the village's (+-3 m noise), speed and heading as moving;
- provider switches: a network fix (accuracy 150-800 m, error up to its accuracy, no
  altitude/speed/heading) followed seconds later by a GPS fix;
- stale cached fixes: on waking, the phone reports the last known location again with that
  location's own time (Android's Location.getTime; API.md's captured_at is when the fix was
  taken, not when it was sent);
- on one day in five, a bus to the county seat 30 km away (14 m/s) and back, fixes along the
  way.

Faked days:
- `mock_teleport`: the phone is really in the member's home town 200 km away in the morning;
  from 09:00 a mock-location app that hides itself (is_mock false) places it in the village;
- `mock_declared`: the same, but the OS reports the mock (is_mock true);
- `replay_noisy`: a genuine earlier day replayed today, coordinates moved by 1-10 cm, the
  other fields as recorded;
- `replay_all_fields_noisy`: the same with noise on altitude (+-1 m), speed and heading too
  (repeated_fix misses these by design; the day's track is caught as `replayed_track`, found
  when its batch arrives and shown on the batch's answer);
- `friend_carries_phone`: someone else lives the genuine day with the phone (indistinguishable
  from the phone alone: only inspections and Wi-Fi can tell).

Uploads are received at once (late_sync is left out: it measures upload delay, not position).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shapely.geometry import MultiPolygon, box
from sqlalchemy import select, text

from app.auth.models import User
from app.auth.sessions import open_session
from app.core.config import Settings
from app.core.db import make_engine, make_session_factory, session_scope
from app.core.migrate import upgrade
from app.core.policy import FlagPolicy, Policy
from app.org.boundaries import bump_boundary_revision
from app.org.models import VillageBoundary

SECRET = "bench-secret-" + "x" * 40
LAT0, LON0 = 28.0, 113.0
SIDE = 0.03  # degrees: a village about 3 km across
M_PER_DEG_LAT = 111_320.0
SHANGHAI = timedelta(hours=8)
FAKES = (
    "mock_teleport",
    "mock_declared",
    "replay_noisy",
    "replay_all_fields_noisy",
    "friend_carries_phone",
)


def village_code(i: int) -> str:
    return f"430121{i // 20 + 1:03d}{i % 20 + 1:03d}"


def village_origin(i: int) -> tuple[float, float]:
    return LON0 + (i % 20) * SIDE * 1.5, LAT0 + (i // 20) * SIDE * 1.5


@dataclass
class Fix:
    at: datetime
    lon: float
    lat: float
    accuracy: float
    altitude: float | None
    speed: float | None
    heading: float | None
    provider: str
    is_mock: bool = False

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "client_id": str(uuid.uuid4()),
            "captured_at": self.at.isoformat(),
            "latitude": self.lat,
            "longitude": self.lon,
            "accuracy_m": round(self.accuracy, 1),
            "provider": self.provider,
            "is_mock": self.is_mock,
            "device_id": "phone",
        }
        for name, value in (
            ("altitude_m", self.altitude),
            ("speed_mps", self.speed),
            ("heading_deg", self.heading),
        ):
            if value is not None:
                out[name] = round(value, 1)
        return out


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    return (
        lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))),
        lat + north_m / M_PER_DEG_LAT,
    )


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (b[0] - a[0]) * M_PER_DEG_LAT * math.cos(math.radians(a[1]))
    dy = (b[1] - a[1]) * M_PER_DEG_LAT
    return math.hypot(dx, dy)


class DayMaker:
    """Genuine days of one member in village `v`."""

    def __init__(self, rng: random.Random, v: int) -> None:
        self.rng = rng
        x0, y0 = village_origin(v)
        self.x0, self.y0 = x0, y0
        self.home = offset(x0, y0, rng.uniform(900, 2100), rng.uniform(900, 2100))
        self.office = offset(*self.home, rng.uniform(-400, 400), rng.uniform(-400, 400))
        self.altitude = rng.uniform(40, 900)
        self.county_seat = offset(x0, y0, 30_000, 0)
        self.last: Fix | None = None  # the phone's last fix, which it may report again

    def somewhere(self) -> tuple[float, float]:
        return offset(self.x0, self.y0, self.rng.uniform(300, 2700), self.rng.uniform(300, 2700))

    def gps(self, at: datetime, where: tuple[float, float], speed: float, heading: float) -> Fix:
        acc = self.rng.uniform(4, 35)
        lon, lat = offset(*where, self.rng.gauss(0, acc / 2), self.rng.gauss(0, acc / 2))
        return Fix(
            at, lon, lat, acc, self.altitude + self.rng.gauss(0, 3),
            speed, heading % 360, "gps",
        )  # fmt: skip

    def network(self, at: datetime, where: tuple[float, float]) -> Fix:
        acc = self.rng.uniform(150, 800)
        angle, err = self.rng.uniform(0, 2 * math.pi), self.rng.uniform(0, acc)
        lon, lat = offset(*where, err * math.cos(angle), err * math.sin(angle))
        return Fix(at, lon, lat, acc, None, None, None, "network")

    def day(self, day: date) -> list[Fix]:
        rng = self.rng
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC) - SHANGHAI
        t = midnight + timedelta(hours=7, minutes=rng.uniform(0, 40))
        end = midnight + timedelta(hours=21, minutes=rng.uniform(0, 60))
        fixes: list[Fix] = []
        here = self.home
        if self.last is not None and rng.random() < 0.5:
            # Waking, the phone reports its last known location again, with that fix's time.
            fixes.append(replace(self.last))
        travel_day = rng.random() < 0.2
        stops = [self.office, self.somewhere(), self.office, self.somewhere(), self.home]
        if travel_day:
            stops = [self.office, self.county_seat, self.office, self.home]
        for stop in stops:
            fixes.append(self.gps(t, here, 0.0, rng.uniform(0, 360)))
            if rng.random() < 0.3:  # a provider switch: network first, GPS seconds later
                fixes.append(self.network(t + timedelta(seconds=1), here))
                fixes.append(self.gps(t + timedelta(seconds=rng.uniform(2, 8)), here, 0.0, 0.0))
            distance = metres(here, stop)
            v = 14.0 if distance > 5_000 else rng.choice((1.2, 10.0))
            duration = distance / v
            heading = math.degrees(math.atan2(stop[0] - here[0], stop[1] - here[1]))
            legs = max(1, int(duration // 600))  # a fix every ten minutes on the way
            for k in range(1, legs):
                frac = k / legs
                point = (here[0] + (stop[0] - here[0]) * frac, here[1] + (stop[1] - here[1]) * frac)
                fixes.append(self.gps(t + timedelta(seconds=duration * frac), point, v, heading))
            t += timedelta(seconds=duration) + timedelta(minutes=rng.uniform(40, 150))
            here = stop
            if t > end:
                break
        fixes.append(self.gps(min(t, end + timedelta(hours=1)), here, 0.0, 0.0))
        self.last = fixes[-1]
        return fixes


def fake_day(
    kind: str, maker: DayMaker, day: date, earlier: list[Fix], rng: random.Random
) -> list[Fix]:
    if kind == "friend_carries_phone":
        return maker.day(day)
    if kind in ("mock_teleport", "mock_declared"):
        hometown = offset(maker.x0, maker.y0, 0, -200_000)
        t = datetime.combine(day, datetime.min.time(), tzinfo=UTC) - SHANGHAI + timedelta(hours=7)
        # The real phone at home until 09:00; the mock app then places it at the office
        # 5-60 minutes later, and the day goes on in the village.
        real = [maker.gps(t + timedelta(minutes=20 * k), hometown, 0.0, 0.0) for k in range(7)]
        switch = real[-1].at + timedelta(minutes=rng.uniform(5, 60))
        last = maker.last
        mocked = [maker.gps(switch, maker.office, 0.0, 0.0)]
        mocked += [f for f in maker.day(day) if f.at > switch]
        maker.last = last  # the faked day's fixes are not the phone's own
        return real + [replace(f, is_mock=kind == "mock_declared") for f in mocked]
    shift = timedelta(days=(day - earlier[-1].at.date()).days)
    out = []
    for f in earlier:
        lon, lat = offset(f.lon, f.lat, rng.uniform(-0.07, 0.07), rng.uniform(-0.07, 0.07))
        g = Fix(f.at + shift, lon, lat, f.accuracy, f.altitude, f.speed, f.heading, f.provider)
        if kind == "replay_all_fields_noisy":
            g.altitude = None if f.altitude is None else f.altitude + rng.uniform(-1, 1)
            g.speed = None if f.speed is None else abs(f.speed + rng.uniform(-0.5, 0.5))
            g.heading = None if f.heading is None else (f.heading + rng.uniform(-5, 5)) % 360
        out.append(g)
    return out


def seed(url: str, members: int, settings: Settings) -> dict[int, str]:
    """The villages, members and their users; returns each user's access token by id."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO units (name) VALUES ('市农业农村局')"))
        for v in range(members):
            code = village_code(v)
            conn.execute(
                text(
                    "INSERT INTO villages (code, name, township_code, county_code, created_at) "
                    "VALUES (:c, :n, :t, :k, :now)"
                ),
                {"c": code, "n": f"村{v}", "t": code[:9], "k": code[:6], "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO members (full_name, position, unit_id, created_at) "
                    "VALUES (:n, 'team_member', 1, :now)"
                ),
                {"n": f"队员{v}", "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO assignments (member_id, village_code, start_date, end_date) "
                    "VALUES (:m, :v, :s, NULL)"
                ),
                {"m": v + 1, "v": code, "s": date(2020, 1, 1)},
            )
            conn.execute(
                text(
                    "INSERT INTO users (username, password_hash, full_name, role, scope, "
                    "member_id, is_active, created_at) "
                    "VALUES (:u, 'x', :u, 'member', '', :m, true, :now)"
                ),
                {"u": f"m{v}", "m": v + 1, "now": now},
            )
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        for v in range(members):
            x0, y0 = village_origin(v)
            session.add(
                VillageBoundary(
                    village_code=village_code(v),
                    boundary=MultiPolygon([box(x0, y0, x0 + SIDE, y0 + SIDE)]),
                    valid_from=now - timedelta(days=400),
                )
            )
        bump_boundary_revision(session)
    tokens: dict[int, str] = {}
    with session_scope(factory) as session:
        for user in session.scalars(select(User)):
            tokens[user.id] = open_session(session, user, settings, method="password").access_token
    engine.dispose()
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--days", type=int, default=28, help="at most 29 (the policy's max age)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-track-scan",
        action="store_true",
        help="baseline: never scan for replayed tracks on upload (to time what the scan costs)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    from starlette.testclient import TestClient

    from app.main import create_app

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/flags.db"
        upgrade(url)
        settings = Settings(DATABASE_URL=url, ZHUCUN_SECRET_KEY=SECRET, ZHUCUN_LOG_LEVEL="WARNING")
        tokens = seed(url, args.members, settings)
        flag_rules = FlagPolicy(late_sync_hours=24 * 40)
        if args.no_track_scan:
            flag_rules = flag_rules.model_copy(update={"replay_track_min_fixes": 1_000_000})
        policy = Policy(flags=flag_rules)
        serious = policy.flags.serious
        genuine_days = 0
        genuine_hits: Counter[str] = Counter()
        genuine_serious = 0
        fake_days: Counter[str] = Counter()
        fake_hits: dict[str, Counter[str]] = defaultdict(Counter)
        fake_caught: Counter[str] = Counter()
        fixes_sent = 0
        started = time.perf_counter()
        app = create_app(settings, policy)
        today = datetime.now(UTC).date()
        with TestClient(app) as client:
            for m in range(args.members):
                user_id = m + 1
                headers = {"Authorization": f"Bearer {tokens[user_id]}"}
                maker = DayMaker(rng, m)
                history: list[list[Fix]] = []
                for d in range(args.days, 0, -1):
                    day = today - timedelta(days=d)
                    kind = None
                    if d <= args.days // 3 and rng.random() < 0.5 and history:
                        kind = FAKES[(m + d) % len(FAKES)]
                    fixes = (
                        maker.day(day)
                        if kind is None
                        else fake_day(kind, maker, day, rng.choice(history), rng)
                    )
                    fixes.sort(key=lambda f: f.at)
                    r = client.post(
                        "/api/v1/checkins/batch",
                        json={"items": [f.body() for f in fixes]},
                        headers=headers,
                    )
                    r.raise_for_status()
                    results = r.json()["results"]
                    fixes_sent += len(results)
                    flags = {
                        flag
                        for item in results
                        if item["checkin"] is not None
                        for flag in item["checkin"]["flags"]
                    }
                    if kind is None:
                        genuine_days += 1
                        genuine_hits.update(flags)
                        genuine_serious += bool(flags & set(serious))
                        history.append(fixes)
                    else:
                        fake_days[kind] += 1
                        fake_hits[kind].update(flags)
                        fake_caught[kind] += bool(flags & set(serious))
        elapsed = time.perf_counter() - started

    scan = "off (baseline)" if args.no_track_scan else "on"
    print(
        f"{args.members} members x {args.days} days, {fixes_sent} fixes uploaded in "
        f"{elapsed:.1f} s = {elapsed / max(fixes_sent, 1) * 1000:.2f} ms a fix, "
        f"{elapsed / max(genuine_days + sum(fake_days.values()), 1) * 1000:.1f} ms a day's "
        f"batch (seed {args.seed}; replayed-track scan on upload {scan})"
    )
    print(f"\ngenuine days: {genuine_days}")
    print(
        f"  any serious flag ({', '.join(serious)}): {genuine_serious} "
        f"= {genuine_serious / max(genuine_days, 1):.2%}"
    )
    for flag in sorted(set(genuine_hits) | set(serious)):
        n = genuine_hits[flag]
        print(f"  {flag:<22} false alarms on {n:>4} days = {n / max(genuine_days, 1):.2%}")
    print("\nfaked days: share of days raising each flag")
    for kind in FAKES:
        n = fake_days[kind]
        shown = ", ".join(
            f"{flag} {count / n:.0%}" for flag, count in fake_hits[kind].most_common()
        )
        print(
            f"  {kind:<24} {n:>3} days, caught by a serious flag on "
            f"{fake_caught[kind] / max(n, 1):.0%}: {shown or 'no flag'}"
        )


if __name__ == "__main__":
    main()
