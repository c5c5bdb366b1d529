"""Helpers for supervision tests: more members for the `world`, and moving stored times back
(the tests' way of letting hours pass)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from app.org.models import Assignment, Member
from app.supervision.models import EventReport, Rectification, RollCall
from tests.ledger.support import at_local, today


def add_member(
    world, key: str, village: str, position: str = "team_member", unit_id: int | None = None
) -> Member:
    """A member assigned to `village` since long ago, with a login named `key`."""
    db = world.db
    member = Member(
        full_name=key.title(),
        position=position,
        unit_id=unit_id or world.members["alice"].unit_id,
        created_at=datetime.now().astimezone(),
    )
    db.add(member)
    db.flush()
    db.add(
        Assignment(
            member_id=member.id,
            village_code=village,
            start_date=today() - timedelta(days=200),
            end_date=None,
        )
    )
    world.members[key] = member
    world.add_user(key, "member", "", member_id=member.id)
    db.commit()
    return member


def age_roll_call(db, roll_call_id: int, back: timedelta) -> None:
    """Make a roll call older: issued and due `back` earlier."""
    issued_at, deadline = db.execute(
        select(RollCall.issued_at, RollCall.deadline).where(RollCall.id == roll_call_id)
    ).one()
    db.execute(
        update(RollCall)
        .where(RollCall.id == roll_call_id)
        .values(issued_at=issued_at - back, deadline=deadline - back)
    )
    db.commit()


def age_event(db, event_id: int, back: timedelta) -> None:
    """Make an event report older: occurred and reported `back` earlier."""
    occurred_at, reported_at = db.execute(
        select(EventReport.occurred_at, EventReport.reported_at).where(EventReport.id == event_id)
    ).one()
    db.execute(
        update(EventReport)
        .where(EventReport.id == event_id)
        .values(occurred_at=occurred_at - back, reported_at=reported_at - back)
    )
    db.commit()


def set_due_date(db, item_id: int, due: date) -> None:
    db.execute(update(Rectification).where(Rectification.id == item_id).values(due_date=due))
    db.commit()


def yesterday_at(hour: float) -> datetime:
    return at_local(today() - timedelta(days=1), hour)
