"""Which leave requests a caller may see, and reading one under its member's lock."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.leave.errors import LeaveNotFound
from app.leave.models import LeaveRequest
from app.ledger.refresh import lock_member
from app.org.models import Member, Unit
from app.org.scope import assigned_under


def leave_visibility(principal: Principal) -> ColumnElement[bool]:
    """A filter on `LeaveRequest` keeping what this caller may see: a member their own; a
    division user the members whose village on the leave's first day is in scope."""
    if principal.role == "member":
        return LeaveRequest.member_id == principal.member_id if principal.member_id else false()
    if principal.role == "unit":
        return LeaveRequest.member_id.in_(
            select(Member.id)
            .join(Unit, Unit.id == Member.unit_id)
            .where(Unit.name == principal.scope)
        )
    prefix = principal.division_prefix
    if prefix is None:
        return false()
    if prefix == "":
        return true()
    # app.org.scope's day rule, judged on the leave's first day.
    return assigned_under(prefix, LeaveRequest.member_id, LeaveRequest.start_date)


def get_visible(session: Session, principal: Principal, leave_id: int) -> LeaveRequest:
    leave = session.scalar(
        select(LeaveRequest).where(LeaveRequest.id == leave_id, leave_visibility(principal))
    )
    if leave is None:
        raise LeaveNotFound(leave_id=leave_id)
    return leave


def get_locked(session: Session, principal: Principal, leave_id: int) -> LeaveRequest:
    """The request, read again once its member's lock is held: a transition judged on a status
    read before the lock could act on one that a parallel transition has just changed."""
    leave = get_visible(session, principal, leave_id)
    lock_member(session, leave.member_id)
    session.refresh(leave)
    return leave
