"""Households and visits of the demo county (`zhucun demo`): four households paired with each
member from the quarter's start, visits on the seeded days through the real visit service
(so they are check-ins too), most countersigned by the household, one denied."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta

from shapely.geometry import MultiPolygon, Point
from sqlalchemy.orm import Session

from app.core.policy import Policy
from app.core.time import utcnow
from app.households import countersign, pairings, visits
from app.households.models import Household
from app.households.schemas import CountersignAnswer, VisitIn

HOUSEHOLDS_PER_MEMBER = 4
_HEADS = "王李张刘陈杨黄赵周吴"
_GIVEN = ("德明", "桂兰", "长生", "秀英", "福贵", "玉珍", "家富", "翠花")
_CATEGORIES = ("lifted", "lifted", "monitored", "ordinary")
_RISKS = ("key", "general", "high", "general")


def seed(
    session: Session,
    policy: Policy,
    secret: str,
    postings: list[tuple[int, str, MultiPolygon]],
    start: date,
    days: list[date],
    seed_value: int,
) -> int:
    """Write the demo households, pairings and visits; returns the visits' check-ins."""
    rng = random.Random(seed_value)
    now = utcnow()
    stored = 0
    for member_id, village_code, boundary in postings:
        inner = boundary.buffer(-0.002)
        homes = []
        for n in range(HOUSEHOLDS_PER_MEMBER):
            lon, lat = _inside(rng, inner)
            code = f"{village_code}{member_id % 100:02d}{n + 1:02d}"
            household = Household(
                household_code=code,
                village_code=village_code,
                head_name=rng.choice(_HEADS) + rng.choice(_GIVEN),
                address=f"{n + 1}组{rng.randint(1, 60)}号",
                longitude=round(lon, 7),
                latitude=round(lat, 7),
                category=_CATEGORIES[n],
                risk=_RISKS[n],
                phone=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                created_at=now,
                updated_at=now,
            )
            session.add(household)
            session.flush()
            pairings.pair(session, household, member_id, start, "cli:demo", now)
            homes.append(household)
        for day in days:
            if rng.random() < 0.5:
                continue
            household = rng.choice(homes)
            at = datetime.combine(day, time(15, rng.randint(0, 59)), tzinfo=policy.zone)
            body = VisitIn.model_validate(
                {
                    "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "household_id": household.id,
                    "captured_at": at.isoformat(),
                    "latitude": household.latitude + rng.uniform(-0.0002, 0.0002),
                    "longitude": household.longitude + rng.uniform(-0.0002, 0.0002),
                    "accuracy_m": round(rng.uniform(8, 30), 1),
                    "topics": ["income", "health"],
                    "note": "了解生产生活情况",
                }
            )
            received = at + timedelta(minutes=2)
            out, created = visits.record(
                session, policy, secret, member_id, body, received, f"demo-phone-{member_id}"
            )
            stored += created
            if out.countersign is not None and rng.random() < 0.8:
                token = out.countersign.url.rsplit("/", 1)[1]
                answer = CountersignAnswer(
                    confirmed=rng.random() < 0.9,
                    knows_member=True,
                    satisfaction=rng.choice((4, 5, 5)),
                    comment=None,
                )
                countersign.answer(
                    session,
                    policy,
                    token,
                    answer,
                    f"demo-household-{household.id}",
                    received + timedelta(minutes=5),
                )
    return stored


def _inside(rng: random.Random, area: MultiPolygon) -> tuple[float, float]:
    west, south, east, north = area.bounds
    while True:
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if area.contains(Point(lon, lat)):
            return lon, lat
