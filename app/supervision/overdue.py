"""The overdue scan of the rectification ledger: one `rectification.overdue` outbox event per
item left open past its due date, queued once (run daily, as `zhucun supervision
scan-overdue`)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.outbox import emit
from app.core.time import as_utc, utcnow
from app.supervision.models import Rectification


def record_overdue_rectifications(session: Session, today: date) -> int:
    """Queue an event for each open item due before `today` not yet reported; returns how many.
    Rows are locked as they are read (those another scan holds are left to it), so two scans at
    once report each item once."""
    items = session.scalars(
        select(Rectification)
        .where(
            Rectification.status == "open",
            Rectification.due_date < today,
            Rectification.overdue_notified_at.is_(None),
        )
        .order_by(Rectification.id)
        .with_for_update(skip_locked=True)
    ).all()
    now = utcnow()
    for item in items:
        item.overdue_notified_at = now
        emit(
            session,
            "rectification.overdue",
            {
                "rectification_id": item.id,
                "member_id": item.member_id,
                "village_code": item.village_code,
                "requirement": item.requirement,
                "due_date": item.due_date.isoformat(),
                "overdue_since": (item.due_date + timedelta(days=1)).isoformat(),
                "opened_level": item.opened_level,
                "opened_at": as_utc(item.opened_at).isoformat(),
            },
        )
    session.flush()
    return len(items)
