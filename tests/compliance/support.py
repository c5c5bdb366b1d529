"""Stories for compliance tests: members posted to villages on given dates, check-ins uploaded
as a phone would (a batch, coordinates jittered as real fixes are), leave asked and approved
through the API, and the clock of the compliance routes set to a chosen day."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.core.policy import FlagPolicy, Policy
from app.ledger.calendar import is_workday
from app.org.models import Assignment, Member, Unit
from tests.world import World, centre

# Stories run in the past (2025's fourth quarter holds National Day and its 调休 Saturday, 11
# October): phones upload late, so the policy accepts fixes up to two years old.
STORY_POLICY = Policy(flags=FlagPolicy(max_age_days=800))
Q4_START, Q4_END = date(2025, 10, 1), date(2025, 12, 31)

_jitter = iter(range(1, 10**9))


def add_member(
    world: World,
    key: str,
    village: str,
    start: date,
    end: date | None = None,
    unit: str = "市农业农村局",
) -> int:
    db = world.db
    unit_row = db.query(Unit).filter_by(name=unit).one()
    member = Member(
        full_name=key, position="team_member", unit_id=unit_row.id, created_at=datetime.now(UTC)
    )
    db.add(member)
    db.flush()
    db.add(Assignment(member_id=member.id, village_code=village, start_date=start, end_date=end))
    world.members[key] = member
    world.add_user(key, "member", "", member_id=member.id)
    db.commit()
    return member.id


def at_local(day: date, hour: float) -> datetime:
    zone = STORY_POLICY.zone
    return (datetime.combine(day, time(), tzinfo=zone) + timedelta(hours=hour)).astimezone(UTC)


def fix(village: str, at: datetime) -> dict[str, Any]:
    lon, lat = centre(village)
    n = next(_jitter)
    return {
        "client_id": str(uuid.uuid4()),
        "captured_at": at.isoformat(),
        "latitude": lat + (n % 97) * 1e-5,
        "longitude": lon + (n % 89) * 1e-5,
        "accuracy_m": 15.0,
        "provider": "gps",
    }


def upload(
    world: World, key: str, village: str, days: Iterable[date], hours: tuple[float, ...]
) -> None:
    """Fixes at `hours` local time on each of `days`, uploaded in batches as a phone would."""
    bodies = [fix(village, at_local(d, h)) for d in days for h in hours]
    for i in range(0, len(bodies), 500):
        r = world.post(key, "/checkins/batch", json={"items": bodies[i : i + 500]})
        assert r.status_code == 200, r.text
        statuses = {x["status"] for x in r.json()["results"]}
        assert statuses == {"created"}, r.json()["results"][:2]


def live_in(world: World, key: str, village: str, days: Iterable[date]) -> None:
    """A full day in the village on each day: morning and evening fixes."""
    upload(world, key, village, days, (8.0, 18.5))


def leave(
    world: World, key: str, kind: str, start: date, end: date, approver: str = "county"
) -> dict[str, Any]:
    """Leave asked for (after the fact: an emergency) and approved."""
    body = {
        "type": kind,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "reason": "story",
        "emergency": True,
    }
    r = world.post(key, "/leave-requests", json=body)
    assert r.status_code == 201, r.text
    leave_id = r.json()["id"]
    r = world.post(approver, f"/leave-requests/{leave_id}/approve", json={})
    assert r.status_code == 200, r.text
    return dict(r.json())


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def workdays(start: date, end: date) -> list[date]:
    return [d for d in days(start, end) if is_workday(d, STORY_POLICY.calendar)]


def set_today(app: Any, day: date) -> None:
    from app.compliance.router import get_today

    app.dependency_overrides[get_today] = lambda: day
