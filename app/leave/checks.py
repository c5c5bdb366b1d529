"""What a new request or an extension must not break: its range, other leave it overlaps,
an extension already under way."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.leave import rules
from app.leave.errors import InvalidRange, LeaveOverlap
from app.leave.models import LeaveRequest


def check_range(start: date, end: date) -> None:
    if end < start:
        raise InvalidRange(
            reason="结束日期早于开始日期。", reason_en="The end date is before the start date."
        )


def check_overlap(session: Session, member_id: int, start: date, end: date) -> None:
    rows = session.scalars(
        select(LeaveRequest).where(
            LeaveRequest.member_id == member_id,
            LeaveRequest.status.in_(rules.HOLDING_STATUSES),
            LeaveRequest.start_date <= end,
            LeaveRequest.end_date >= start,
        )
    )
    for other in rows:
        held = rules.held_days(other.status, other.start_date, other.end_date, other.returned_on)
        if held is not None and rules.overlaps(held, (start, end)):
            raise LeaveOverlap(leave_id=other.id, start=held[0], end=held[1])


def active_child(session: Session, leave_id: int) -> LeaveRequest | None:
    return session.scalar(
        select(LeaveRequest).where(
            LeaveRequest.extends_id == leave_id, LeaveRequest.status.in_(rules.ACTIVE_STATUSES)
        )
    )
