"""Leave (请销假): request, decision by tier, cancel, extend and return: the commands.

Every transition is recorded (who, when, from, to, comment), queues an outbox event and
refreshes the ledger days it touches, all in the caller's transaction (app.leave.recording).
Who sees what is app.leave.visibility, lists and histories app.leave.reading, the overdue scan
app.leave.overdue; their public names are importable from here too.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.outbox import emit
from app.core.policy import Policy
from app.core.time import utcnow
from app.leave import rules
from app.leave.checks import active_child, check_overlap, check_range
from app.leave.errors import (
    ApproverLevelMismatch,
    InvalidRange,
    LeaveOutsideAssignment,
    RetroactiveLeave,
)
from app.leave.models import LeaveRequest
from app.leave.overdue import record_overdue
from app.leave.reading import QUEUE_ROLES, LeaveFilter, histories, list_requests
from app.leave.recording import payload, refresh, refused, transition
from app.leave.visibility import get_locked, get_visible, leave_visibility
from app.ledger.refresh import lock_member
from app.org import service as org_service

__all__ = [
    "QUEUE_ROLES",
    "LeaveFilter",
    "cancel",
    "decide",
    "extend",
    "get_visible",
    "histories",
    "leave_visibility",
    "list_requests",
    "record_overdue",
    "report_return",
    "request_leave",
]


# --- requests ------------------------------------------------------------------------------


def request_leave(
    session: Session,
    policy: Policy,
    principal: Principal,
    *,
    type: str,
    start: date,
    end: date,
    reason: str,
    emergency: bool,
    today: date,
) -> LeaveRequest:
    """A member asks for leave; routed to the tier that its length needs."""
    assert principal.member_id is not None
    member_id = principal.member_id
    check_range(start, end)
    if start < today and not emergency:
        raise RetroactiveLeave()
    if org_service.assignment_on(session, member_id, start) is None:
        raise LeaveOutsideAssignment(start=start)
    lock_member(session, member_id)
    check_overlap(session, member_id, start, end)
    level, filed_with = rules.route(policy.leave, rules.leave_days(start, end))
    leave = _new_request(
        session, principal, member_id, type, start, end, reason, emergency, level, filed_with, None
    )
    return leave


def extend(
    session: Session,
    policy: Policy,
    principal: Principal,
    leave_id: int,
    *,
    end: date,
    reason: str,
    emergency: bool,
    today: date,
) -> LeaveRequest:
    """A new request continuing an approved leave to `end`, routed by the chain's total."""
    parent = get_locked(session, principal, leave_id)
    if not rules.allowed("extend", parent.status, parent.start_date, today) or active_child(
        session, parent.id
    ):
        raise refused(parent, "extend")
    if end <= parent.end_date:
        raise InvalidRange(
            reason=f"续假结束日期须晚于原假期结束日期 {parent.end_date}。",
            reason_en=f"The extension must end after {parent.end_date}.",
        )
    start = parent.end_date + timedelta(days=1)
    if start < today and not emergency:
        raise RetroactiveLeave()
    check_overlap(session, parent.member_id, start, end)
    root = parent
    while root.extends_id is not None:
        root = session.get_one(LeaveRequest, root.extends_id)
    level, filed_with = rules.route(policy.leave, rules.leave_days(root.start_date, end))
    return _new_request(
        session,
        principal,
        parent.member_id,
        parent.type,
        start,
        end,
        reason,
        emergency,
        level,
        filed_with,
        parent.id,
    )


def _new_request(
    session: Session,
    principal: Principal,
    member_id: int,
    type: str,
    start: date,
    end: date,
    reason: str,
    emergency: bool,
    level: str,
    filed_with: str | None,
    extends_id: int | None,
) -> LeaveRequest:
    leave = LeaveRequest(
        member_id=member_id,
        type=type,
        start_date=start,
        end_date=end,
        days=rules.leave_days(start, end),
        reason=reason,
        emergency=emergency,
        status="pending",
        approver_level=level,
        filed_with=filed_with,
        extends_id=extends_id,
        created_by=principal.user_id,
        created_at=utcnow(),
    )
    session.add(leave)
    session.flush()
    transition(session, leave, principal, None, "pending", reason or None)
    emit(session, "leave.submitted", payload(leave))
    return leave


# --- decisions and the member's own steps --------------------------------------------------


def decide(
    session: Session,
    policy: Policy,
    principal: Principal,
    leave_id: int,
    *,
    approve: bool,
    comment: str | None,
    today: date,
) -> LeaveRequest:
    """Approve or reject: only the level the request was routed to, within scope."""
    leave = get_locked(session, principal, leave_id)
    if principal.role != leave.approver_level:
        raise ApproverLevelMismatch(level=leave.approver_level)
    action: rules.Action = "approve" if approve else "reject"
    if not rules.allowed(action, leave.status, leave.start_date, today):
        raise refused(leave, action)
    if approve and leave.extends_id is not None:
        parent = session.get_one(LeaveRequest, leave.extends_id)
        if parent.status != "approved":
            raise refused(leave, action)
    before = leave.status
    leave.status = "approved" if approve else "rejected"
    leave.decided_by = principal.user_id
    leave.decided_at = utcnow()
    leave.decision_comment = comment
    transition(session, leave, principal, before, leave.status, comment)
    emit(session, "leave.decided", {**payload(leave), "comment": comment})
    if approve:
        refresh(session, policy, leave, leave.start_date, leave.end_date)
    return leave


def cancel(
    session: Session,
    policy: Policy,
    principal: Principal,
    leave_id: int,
    *,
    comment: str | None,
    today: date,
) -> LeaveRequest:
    """The member withdraws a pending request, or an approved leave before it begins; its
    pending or approved extensions go with it."""
    leave = get_locked(session, principal, leave_id)
    if not rules.allowed("cancel", leave.status, leave.start_date, today):
        raise refused(leave, "cancel")
    chain = [leave]
    while (child := active_child(session, chain[-1].id)) is not None:
        chain.append(child)
    for item in chain:
        before = item.status
        item.status = "cancelled"
        transition(session, item, principal, before, "cancelled", comment)
        emit(session, "leave.cancelled", payload(item))
        if before == "approved":
            refresh(session, policy, item, item.start_date, item.end_date)
    return leave


def report_return(
    session: Session,
    policy: Policy,
    principal: Principal,
    leave_id: int,
    *,
    returned_on: date,
    comment: str | None,
    today: date,
) -> LeaveRequest:
    """销假: the member is back on `returned_on`; the leave stops covering days from then on."""
    leave = get_locked(session, principal, leave_id)
    if not rules.allowed("return", leave.status, leave.start_date, today) or active_child(
        session, leave.id
    ):
        raise refused(leave, "return")
    if not leave.start_date <= returned_on <= today:
        raise InvalidRange(
            reason=f"销假日期须在 {leave.start_date} 与今天之间。",
            reason_en=f"returned_on must lie between {leave.start_date} and today.",
        )
    leave.status = "returned"
    leave.returned_on = returned_on
    transition(session, leave, principal, "approved", "returned", comment)
    emit(session, "leave.returned", payload(leave))
    if returned_on <= leave.end_date:
        refresh(session, policy, leave, returned_on, leave.end_date)
    return leave
