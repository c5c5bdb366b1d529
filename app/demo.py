"""A generated demo county for trying the API on the embedded SQLite database.

Everything comes from a fixed random seed, so every demo database is the same: county 430199
(示范县, an invented code under city 4301), 3 townships, 12 villages whose boundaries are
jittered Voronoi cells, 2 dispatching units, 12 members posted since the start of the current
quarter, four households paired with each (帮扶到户) and their visits, and one login per
role, all with the password `demo-password` (demo data only).
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
import typer
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon, box
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.checkins import storing as checkin_storing
from app.core.config import get_settings
from app.core.db import make_engine, make_session_factory, session_scope
from app.core.policy import Policy, get_policy
from app.core.security import hash_password
from app.core.time import today, utcnow
from app.geo.coords import wgs84_to_gcj02
from app.households import demo as household_demo
from app.ledger import calendar
from app.org import service as org_service
from app.org.boundaries import bump_boundary_revision
from app.org.division_names import DEMO_COUNTY, DEMO_TOWNSHIPS
from app.org.models import Assignment, Village, VillageBoundary

SEED = 20240401
DEMO_PASSWORD = "demo-password"
CITY = "4301"
COUNTY = DEMO_COUNTY[0]
COUNTY_NAME = DEMO_COUNTY[1]
TOWNSHIPS = DEMO_TOWNSHIPS
VILLAGE_NAMES = (
    *("枫林村", "石桥村", "白沙村", "青山村", "柳塘村", "杨梅村"),
    *("金井村", "桃花村", "双河村", "龙泉村", "新华村", "高塘村"),
)
UNITS = ("市农业农村局", "市财政局")
BBOX = (113.05, 28.25, 113.25, 28.40)
DEFAULT_DOCS_URL = "http://127.0.0.1:8000/docs"
# The history covers the current quarter up to yesterday. Who does what, by index in
# demo_members(): most are on post on working days; a few come too rarely (at risk); the first
# two teams' second members take turns week by week with their first secretaries (轮着来); one
# comes for lunch and leaves (short visits); one is on approved leave today.
ROTATING = (1, 9)  # first secretary and team member of the second village
AT_RISK = (6, 7)
LUNCH_VISITOR = 5
VISIT_DAYS = 5  # household visits (app.households.demo) on the last days before today
ON_LEAVE = 3  # in the first township, whose login approves short leave
LEAVE_DAYS_BEFORE, LEAVE_DAYS_AFTER = 3, 4  # around today
# (username, role, scope): one login per role, all with DEMO_PASSWORD.
LOGINS = (
    ("demo-admin", "admin", ""),
    ("demo-city", "city", CITY),
    ("demo-county", "county", COUNTY),
    ("demo-township", "township", TOWNSHIPS[0][0]),
    ("demo-unit", "unit", UNITS[0]),
    ("demo-auditor", "auditor", "43"),
)
MEMBER_LOGIN = "demo-member"

FloatArray = npt.NDArray[np.float64]

_SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗"
_GIVEN = (
    *("建国", "海燕", "志强", "丽华", "文斌", "晓东", "春梅", "国庆", "红霞"),
    *("伟", "敏", "磊", "静", "军", "芳", "涛", "勇", "婷"),
)


class DemoRefused(Exception):
    """The demo county cannot be loaded into this database."""


@dataclass(frozen=True)
class DemoVillage:
    code: str
    name: str
    boundary: MultiPolygon


@dataclass(frozen=True)
class DemoMember:
    full_name: str
    position: str
    unit: str
    village_code: str
    username: str


def demo_villages(seed: int = SEED) -> list[DemoVillage]:
    """12 villages tiling an irregular county: 3 rows of 4 cells, one township per row."""
    rng = random.Random(seed)
    west, south, east, north = BBOX
    cols, rows = 4, 3
    width, height = (east - west) / cols, (north - south) / rows
    seeds = [
        (
            west + (c + 0.5 + rng.uniform(-0.3, 0.3)) * width,
            south + (rows - r - 0.5 + rng.uniform(-0.3, 0.3)) * height,
        )
        for r in range(rows)
        for c in range(cols)
    ]
    frame = box(*BBOX)
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=frame)
    warp = _smooth_warp(rng)
    villages = []
    for index, (lon, lat) in enumerate(seeds):
        cell = next(g for g in cells.geoms if g.contains(Point(lon, lat)))
        clipped = shapely.segmentize(cell.intersection(frame), 0.003)
        boundary = shapely.transform(clipped, warp)
        # The warp keeps rings simple; a change to it that breaks this must fail loudly.
        assert isinstance(boundary, Polygon)
        assert boundary.is_valid
        township = TOWNSHIPS[index // cols][0]
        code = f"{township}{index % cols + 1:03d}"
        villages.append(DemoVillage(code, VILLAGE_NAMES[index], MultiPolygon([boundary])))
    return villages


def _smooth_warp(rng: random.Random) -> Callable[[FloatArray], FloatArray]:
    """A smooth displacement of up to ~300 m whose slope stays well below 1: straight Voronoi
    edges become wavy, neighbouring cells keep sharing their edges, and no ring crosses itself.
    """
    big, big_wave = 0.0022, 2 * math.pi / 0.06
    small, small_wave = 0.0007, 2 * math.pi / 0.02
    p = [rng.uniform(0, 2 * math.pi) for _ in range(6)]

    def warp(xy: FloatArray) -> FloatArray:
        x, y = xy[:, 0], xy[:, 1]
        out = xy.copy()
        out[:, 0] = (
            x
            + big * np.sin(big_wave * x + p[0]) * np.cos(big_wave * y + p[1])
            + small * np.sin(small_wave * y + p[2])
        )
        out[:, 1] = (
            y
            + big * np.cos(big_wave * x + p[3]) * np.sin(big_wave * y + p[4])
            + small * np.sin(small_wave * x + p[5])
        )
        return out

    return warp


def demo_members(villages: list[DemoVillage], seed: int = SEED) -> list[DemoMember]:
    """A first secretary in each of the first 8 villages, and a team member in the first 4."""
    rng = random.Random(seed + 1)
    postings = [(v, "first_secretary") for v in villages[:8]]
    postings += [(v, "team_member") for v in villages[:4]]
    members = []
    for index, (village, position) in enumerate(postings):
        name = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        username = MEMBER_LOGIN if index == 0 else f"{MEMBER_LOGIN}-{index + 1:02d}"
        members.append(DemoMember(name, position, UNITS[index % 2], village.code, username))
    return members


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def load_demo(url: str, *, force: bool = False, docs_url: str = DEFAULT_DOCS_URL) -> None:
    """Load the demo county and print its logins; refused if the database has villages
    (unless `force`) or already holds the demo."""
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            if not force and session.scalar(select(Village.code).limit(1)) is not None:
                raise DemoRefused(
                    "the database already has villages (--force adds the demo county anyway)"
                )
            if _demo_present(session):
                raise DemoRefused("the demo county is already loaded")
            checkins = _load(session)
    finally:
        engine.dispose()
    typer.echo(try_it_text(docs_url, checkins))


def load_demo_if_empty(url: str, docs_url: str = DEFAULT_DOCS_URL) -> bool:
    """Load the demo into a database without villages; True when it did.

    On a database that already holds the demo, only the logins are printed again.
    """
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            if session.scalar(select(Village.code).limit(1)) is not None:
                if _demo_present(session):
                    typer.echo(try_it_text(docs_url))
                return False
            checkins = _load(session)
    finally:
        engine.dispose()
    typer.echo(try_it_text(docs_url, checkins))
    return True


def _demo_present(session: Session) -> bool:
    login = session.scalar(select(User.id).where(User.username == LOGINS[0][0]))
    village = session.scalar(select(Village.code).where(Village.county_code == COUNTY).limit(1))
    return login is not None or village is not None


def _load(session: Session) -> int:
    """Write the demo county; returns how many check-ins were seeded."""
    now = utcnow()
    policy = get_policy()
    villages = demo_villages()
    for v in villages:
        session.add(
            Village(
                code=v.code,
                name=v.name,
                township_code=v.code[:9],
                county_code=v.code[:6],
                created_at=now,
            )
        )
    session.flush()
    for v in villages:
        session.add(VillageBoundary(village_code=v.code, boundary=v.boundary, valid_from=now))
    bump_boundary_revision(session)
    # One hash for every demo login: they share the documented demo password.
    password_hash = hash_password(DEMO_PASSWORD)
    start = quarter_start(today(policy.zone))
    boundaries = {v.code: v.boundary for v in villages}
    postings: list[tuple[int, MultiPolygon]] = []
    users: list[User] = []
    households: list[tuple[int, str, MultiPolygon]] = []
    for m in demo_members(villages):
        unit, _ = org_service.get_or_create_unit(session, m.unit)
        member = org_service.create_member(session, m.full_name, m.position, unit.id)
        session.add(Assignment(member_id=member.id, village_code=m.village_code, start_date=start))
        users.append(
            _user(m.username, m.full_name, "member", m.village_code, password_hash, member.id)
        )
        postings.append((member.id, boundaries[m.village_code]))
        households.append((member.id, m.village_code, boundaries[m.village_code]))
    session.add_all(users)
    for username, role, scope in LOGINS:
        session.add(_user(username, username, role, scope, password_hash, None))
    session.flush()
    stored = _seed_checkins(session, policy, postings, start)
    # Households paired with each member, and visits on the last days (check-ins too).
    stored += household_demo.seed(
        session,
        policy,
        get_settings().secret_key,
        households,
        start,
        _visit_days(policy, start),
        SEED + 3,
    )
    _seed_leave(session, policy, [(u.member_id or 0, u.id) for u in users])
    return stored


def _visit_days(policy: Policy, start: date) -> list[date]:
    """The days of the demo's household visits: the last few before today, in the quarter."""
    last = today(policy.zone) - timedelta(days=1)
    days = [last - timedelta(days=n) for n in range(VISIT_DAYS - 1, -1, -1)]
    return [d for d in days if d >= start]


def _seed_checkins(
    session: Session, policy: Policy, postings: list[tuple[int, MultiPolygon]], start: date
) -> int:
    """Plausible phone fixes over the quarter so far (today's up to now), through the real
    check-in service (so the ledger follows), one member's history at a time: a day on post is
    fixes in the morning, at noon and in the evening; a lunch visit is two fixes around noon;
    half the phones send GCJ-02 as WeChat does. Who does what: ROTATING, AT_RISK, LUNCH_VISITOR,
    ON_LEAVE."""
    rng = random.Random(SEED + 2)
    local_today = today(policy.zone)
    # Today too, up to now: the map's "today" shows who has checked in so far.
    days = [start + timedelta(days=n) for n in range((local_today - start).days + 1)]
    sent_by = utcnow() - timedelta(minutes=2)
    leave_from = local_today - timedelta(days=LEAVE_DAYS_BEFORE)
    times = {"day": [(8, 20), (12, 30), (17, 50)], "lunch": [(11, 40), (13, 5)]}
    stored = 0
    for index, (member_id, boundary) in enumerate(postings):
        gcj = rng.random() < 0.5
        for day in days:
            pattern = _pattern(rng, index, day, policy, leave_from)
            fixes = [
                _fix(rng, boundary, day, hour, minute, policy, gcj, member_id)
                for hour, minute in times.get(pattern, [])
            ]
            fixes = [f for f in fixes if datetime.fromisoformat(f["captured_at"]) < sent_by]
            if not fixes:
                continue
            # Sent a few minutes after the day's last fix, as a phone with signal does.
            received = min(
                datetime.fromisoformat(fixes[-1]["captured_at"]) + timedelta(minutes=3), sent_by
            )
            outcomes = checkin_storing.record_batch(
                session, policy, member_id, fixes, received.astimezone(UTC)
            )
            stored += sum(o.status == "created" for o in outcomes)
    return stored


def _pattern(rng: random.Random, index: int, day: date, policy: Policy, leave_from: date) -> str:
    """What member `index` did on `day`: "day" (on post), "lunch" or "away"."""
    workday = calendar.is_workday(day, policy.calendar)
    if index == ON_LEAVE and day >= leave_from:
        return "away"
    if index == LUNCH_VISITOR:
        return "lunch" if workday and rng.random() < 0.8 else "away"
    if index in ROTATING:
        week = day.isocalendar().week
        mine = (week % 2 == 0) == (index == ROTATING[0])
        return "day" if mine and workday and rng.random() < 0.95 else "away"
    if index in AT_RISK:
        return "day" if workday and rng.random() < 0.7 else "away"
    if workday:
        return "day" if rng.random() < 0.96 else "away"
    return "day" if rng.random() < 0.15 else "away"


def _seed_leave(session: Session, policy: Policy, members: list[tuple[int, int]]) -> None:
    """Member ON_LEAVE asked for leave (an emergency, so from a few days ago) and it was
    approved, through the leave service so that the actions log holds both steps."""
    from app.auth.principal import Principal
    from app.leave import service as leave_service

    member_id, user_id = members[ON_LEAVE]
    local_today = today(policy.zone)
    asker = Principal(user_id, "", "member", "", member_id)
    leave = leave_service.request_leave(
        session,
        policy,
        asker,
        type="personal",
        start=local_today - timedelta(days=LEAVE_DAYS_BEFORE),
        end=local_today + timedelta(days=LEAVE_DAYS_AFTER),
        reason="家中老人住院",
        emergency=True,
        today=local_today,
    )
    username, role, scope = next(login for login in LOGINS if login[1] == leave.approver_level)
    approver = session.scalar(select(User).where(User.username == username))
    assert approver is not None
    decider = Principal(approver.id, username, role, scope, None)
    leave_service.decide(
        session, policy, decider, leave.id, approve=True, comment="同意", today=local_today
    )


def _fix(
    rng: random.Random,
    boundary: MultiPolygon,
    day: date,
    hour: int,
    minute: int,
    policy: Policy,
    gcj: bool,
    member_id: int,
) -> dict[str, Any]:
    inner = boundary.buffer(-0.002)
    west, south, east, north = inner.bounds
    while True:
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if inner.contains(Point(lon, lat)):
            break
    if gcj:
        lon, lat = wgs84_to_gcj02(lon, lat)
    at = datetime.combine(day, time(hour, minute), tzinfo=policy.zone) + timedelta(
        minutes=rng.uniform(-25, 25)
    )
    return {
        "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "captured_at": at.isoformat(timespec="seconds"),
        "latitude": round(lat, 6),
        "longitude": round(lon, 6),
        "coord_system": "gcj02" if gcj else "wgs84",
        "accuracy_m": round(rng.uniform(8, 60), 1),
        "provider": "gps",
        "device_id": f"demo-phone-{member_id}",
    }


def _user(
    username: str, full_name: str, role: str, scope: str, password_hash: str, member_id: int | None
) -> User:
    return User(
        username=username,
        password_hash=password_hash,
        full_name=full_name,
        role=role,
        scope=scope,
        member_id=member_id,
        is_active=True,
        created_at=utcnow(),
    )


def try_it_text(docs_url: str = DEFAULT_DOCS_URL, checkins: int | None = None) -> str:
    width = max(len(u) for u, _, _ in LOGINS)
    logins = [
        f"  {u.ljust(width)}  {role:<9} {scope or '(everything)'}" for u, role, scope in LOGINS
    ]
    first_village = f"{TOWNSHIPS[0][0]}001"
    logins.append(
        f"  {MEMBER_LOGIN.ljust(width)}  {'member':<9} first secretary of {first_village}"
    )
    return "\n".join(
        [
            f"Demo county: {COUNTY_NAME} ({COUNTY}), 3 townships, {len(VILLAGE_NAMES)} villages, "
            f"12 members in 2 dispatching units ({'、'.join(UNITS)})"
            + (f", {checkins} check-ins this quarter." if checkins is not None else "."),
            f"Try it: open {docs_url}, click Authorize and log in as one of these "
            f"(password for all: {DEMO_PASSWORD}):",
            *logins,
        ]
    )
