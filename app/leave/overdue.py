"""The daily scan for overstayed leave (超假): one `leave.overdue` outbox event each."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.outbox import emit
from app.core.policy import Policy
from app.core.time import utcnow
from app.leave.models import LeaveRequest
from app.leave.recording import payload
from app.ledger import service as ledger_service


def record_overdue(session: Session, policy: Policy, today: date) -> int:
    """Queue one `leave.overdue` event for each approved leave whose member has not come back
    by the day after it ended (超假). Returns how many were queued."""
    # Locked as read (rows another scan holds are left to it): two scans at once queue each
    # overstay once.
    candidates = session.scalars(
        select(LeaveRequest)
        .where(
            LeaveRequest.status == "approved",
            LeaveRequest.overdue_notified_at.is_(None),
            LeaveRequest.end_date < today - timedelta(days=1),
        )
        .with_for_update(skip_locked=True)
    ).all()
    queued = 0
    for leave in candidates:
        first_day = leave.end_date + timedelta(days=1)
        spans = ledger_service.overstays(
            session, policy, leave.member_id, first_day, first_day, today=today
        )
        if any(s.leave_id == leave.id for s in spans):
            leave.overdue_notified_at = utcnow()
            emit(session, "leave.overdue", {**payload(leave), "overdue_since": str(first_day)})
            queued += 1
    return queued
