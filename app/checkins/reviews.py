"""Reviews: a reviewer voids a check-in (it stops counting) or restores it. Recorded beside
the fix, never editing it; the day is recomputed in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.auth.principal import Principal
from app.checkins import findings as findings_service
from app.checkins.chain import lock_head
from app.checkins.errors import CheckInNotFound, InvalidTransition
from app.checkins.reading import c, judged, out_row, reviews_of, reviews_table
from app.checkins.schemas import CheckInOut
from app.core.policy import Policy
from app.ledger.refresh import on_days_changed
from app.org.models import Member
from app.org.service import member_visibility


def review(
    session: Session,
    policy: Policy,
    principal: Principal,
    checkin_id: int,
    action: Literal["void", "restore"],
    reason: str,
    at: datetime,
) -> CheckInOut:
    """Record a reviewer's void or restore beside the check-in, and refresh its day."""
    row = session.execute(judged().where(c.id == checkin_id)).first()
    if row is None or not _reviewable_by(session, principal, row):
        raise CheckInNotFound(checkin_id=checkin_id)
    lock_head(session, row.member_id)  # one reviewer at a time per member
    past = reviews_of(session, [row.id]).get(row.id, [])
    voided = bool(past) and past[-1].action == "void"
    if voided == (action == "void"):
        raise InvalidTransition(
            checkin_id=checkin_id,
            state="已作废" if voided else "未作废",
            state_en="voided" if voided else "not voided",
            action="作废" if action == "void" else "恢复",
            action_en="voided" if action == "void" else "restored",
        )
    session.execute(
        insert(reviews_table).values(
            checkin_id=row.id, action=action, reason=reason, reviewer_id=principal.user_id, at=at
        )
    )
    audit_actions.record(
        session,
        actor=principal.user_id,
        action=f"checkin.{action}",
        subject=f"checkin:{row.id}",
        payload={"action": action, "reason": reason, "at": at},
        about=audit_actions.About(row.member_id, row.local_date),
    )
    on_days_changed(session, policy, row.member_id, [row.local_date])
    later = findings_service.findings_for(session, [row.id], [row.local_date]).get(row.id)
    return out_row(row, reviews_of(session, [row.id]).get(row.id), later, named=True)


def _reviewable_by(session: Session, principal: Principal, row: Row[Any]) -> bool:
    """In scope: the village the member was assigned to on the fix's day (as judged now) is
    under the caller's prefix (or, with no assignment that day, the member is in scope at all)."""
    if row.assigned_village_code is not None:
        return principal.covers_village(row.assigned_village_code)
    visible = session.scalar(
        select(Member.id).where(Member.id == row.member_id, member_visibility(principal))
    )
    return visible is not None
