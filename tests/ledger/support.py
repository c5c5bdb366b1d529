"""Helpers for ledger and leave tests: check-ins stored straight through the ORM (as the
check-ins service would), each followed by the ledger refresh that service makes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.checkins.models import CheckIn, CheckInReview
from app.core.policy import Policy
from app.core.time import local_date
from app.core.time import today as local_today
from app.ledger.models import PresenceDay
from app.ledger.refresh import on_days_changed
from tests.world import centre

DUMMY_HASH = "0" * 64


def today() -> date:
    return local_today(Policy().zone)


def at_local(day: date, hour: float, policy: Policy | None = None) -> datetime:
    """The UTC instant of `hour` o'clock local time on `day`."""
    zone = (policy or Policy()).zone
    moment = datetime.combine(day, time(), tzinfo=zone) + timedelta(hours=hour)
    return moment.astimezone(UTC)


def add_fix(
    db: Session,
    policy: Policy,
    member_id: int,
    at: datetime,
    *,
    credited: bool = True,
    village: str = "430121001001",
    refresh: bool = True,
) -> CheckIn:
    seq = (db.scalar(select(func.max(CheckIn.seq)).where(CheckIn.member_id == member_id)) or 0) + 1
    lon, lat = centre(village)
    fix = CheckIn(
        member_id=member_id,
        client_id=str(uuid.uuid4()),
        seq=seq,
        captured_at=at,
        received_at=at,
        local_date=local_date(at, policy.zone),
        latitude=lat,
        longitude=lon,
        raw_latitude=lat,
        raw_longitude=lon,
        coord_system="wgs84",
        accuracy_m=10.0,
        village_code=village,
        assigned_village_code=village,
        geofence="inside" if credited else "outside",
        distance_m=0.0,
        credited=credited,
        flags="",
        body_hash=DUMMY_HASH,
        prev_hash=DUMMY_HASH,
        row_hash=DUMMY_HASH,
    )
    db.add(fix)
    db.flush()
    if refresh:
        on_days_changed(db, policy, member_id, [fix.local_date])
    return fix


def review(
    db: Session, policy: Policy, fix: CheckIn, action: str, reviewer_id: int, refresh: bool = True
) -> None:
    db.add(
        CheckInReview(
            checkin_id=fix.id,
            action=action,
            reason="test",
            reviewer_id=reviewer_id,
            at=datetime.now(UTC),
        )
    )
    db.flush()
    if refresh:
        on_days_changed(db, policy, fix.member_id, [fix.local_date])


def ledger_rows(db: Session) -> list[tuple[object, ...]]:
    """The whole ledger table, comparable across runs."""
    db.expire_all()
    rows = db.execute(
        select(
            PresenceDay.member_id,
            PresenceDay.day,
            PresenceDay.counted_checkins,
            PresenceDay.first_counted_at,
            PresenceDay.last_counted_at,
            PresenceDay.present,
            PresenceDay.leave_id,
        ).order_by(PresenceDay.member_id, PresenceDay.day)
    )
    return [tuple(r) for r in rows]
