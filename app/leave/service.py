"""Leave (请销假): request, decision by tier, cancel, extend, return, and the overdue scan.

Every transition is recorded (who, when, from, to, comment), queues an outbox event and
refreshes the ledger days it touches, all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.auth.models import User
from app.auth.principal import Principal
from app.core.outbox import emit
from app.core.policy import Policy
from app.core.time import as_utc, utcnow
from app.leave import rules
from app.leave.errors import (
    ApproverLevelMismatch,
    InvalidRange,
    InvalidTransition,
    LeaveNotFound,
    LeaveOutsideAssignment,
    LeaveOverlap,
    RetroactiveLeave,
)
from app.leave.models import LeaveRequest, LeaveTransition
from app.ledger import rules as ledger_rules
from app.ledger import service as ledger_service
from app.ledger.refresh import lock_member, on_days_changed
from app.org import service as org_service
from app.org.models import Member, Unit
from app.org.scope import assigned_under

_ACTION_WORDS = {
    "approve": ("批准", "approved"),
    "reject": ("驳回", "rejected"),
    "cancel": ("撤销", "cancelled"),
    "return": ("销假", "returned from"),
    "extend": ("续假", "extended"),
}


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


def _get_locked(session: Session, principal: Principal, leave_id: int) -> LeaveRequest:
    """The request, read again once its member's lock is held: a transition judged on a status
    read before the lock could act on one that a parallel transition has just changed."""
    leave = get_visible(session, principal, leave_id)
    lock_member(session, leave.member_id)
    session.refresh(leave)
    return leave


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
    _check_range(start, end)
    if start < today and not emergency:
        raise RetroactiveLeave()
    if org_service.assignment_on(session, member_id, start) is None:
        raise LeaveOutsideAssignment(start=start)
    lock_member(session, member_id)
    _check_overlap(session, member_id, start, end)
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
    parent = _get_locked(session, principal, leave_id)
    if not rules.allowed("extend", parent.status, parent.start_date, today) or _active_child(
        session, parent.id
    ):
        raise _refused(parent, "extend")
    if end <= parent.end_date:
        raise InvalidRange(
            reason=f"续假结束日期须晚于原假期结束日期 {parent.end_date}。",
            reason_en=f"The extension must end after {parent.end_date}.",
        )
    start = parent.end_date + timedelta(days=1)
    if start < today and not emergency:
        raise RetroactiveLeave()
    _check_overlap(session, parent.member_id, start, end)
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
    _transition(session, leave, principal, None, "pending", reason or None)
    emit(session, "leave.submitted", _payload(leave))
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
    leave = _get_locked(session, principal, leave_id)
    if principal.role != leave.approver_level:
        raise ApproverLevelMismatch(level=leave.approver_level)
    action: rules.Action = "approve" if approve else "reject"
    if not rules.allowed(action, leave.status, leave.start_date, today):
        raise _refused(leave, action)
    if approve and leave.extends_id is not None:
        parent = session.get_one(LeaveRequest, leave.extends_id)
        if parent.status != "approved":
            raise _refused(leave, action)
    before = leave.status
    leave.status = "approved" if approve else "rejected"
    leave.decided_by = principal.user_id
    leave.decided_at = utcnow()
    leave.decision_comment = comment
    _transition(session, leave, principal, before, leave.status, comment)
    emit(session, "leave.decided", {**_payload(leave), "comment": comment})
    if approve:
        _refresh(session, policy, leave, leave.start_date, leave.end_date)
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
    leave = _get_locked(session, principal, leave_id)
    if not rules.allowed("cancel", leave.status, leave.start_date, today):
        raise _refused(leave, "cancel")
    chain = [leave]
    while (child := _active_child(session, chain[-1].id)) is not None:
        chain.append(child)
    for item in chain:
        before = item.status
        item.status = "cancelled"
        _transition(session, item, principal, before, "cancelled", comment)
        emit(session, "leave.cancelled", _payload(item))
        if before == "approved":
            _refresh(session, policy, item, item.start_date, item.end_date)
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
    leave = _get_locked(session, principal, leave_id)
    if not rules.allowed("return", leave.status, leave.start_date, today) or _active_child(
        session, leave.id
    ):
        raise _refused(leave, "return")
    if not leave.start_date <= returned_on <= today:
        raise InvalidRange(
            reason=f"销假日期须在 {leave.start_date} 与今天之间。",
            reason_en=f"returned_on must lie between {leave.start_date} and today.",
        )
    leave.status = "returned"
    leave.returned_on = returned_on
    _transition(session, leave, principal, "approved", "returned", comment)
    emit(session, "leave.returned", _payload(leave))
    if returned_on <= leave.end_date:
        _refresh(session, policy, leave, returned_on, leave.end_date)
    return leave


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaveFilter:
    status: str | None = None
    member_id: int | None = None
    filed_with: str | None = None


QUEUE_ROLES = ("township", "county", "city")


def list_requests(
    session: Session, principal: Principal, filters: LeaveFilter, after_id: int | None, limit: int
) -> list[LeaveRequest]:
    """Scoped; an approver with no filter gets their queue (pending at their level)."""
    query = select(LeaveRequest).where(leave_visibility(principal))
    if filters.status:
        query = query.where(LeaveRequest.status == filters.status)
    if filters.member_id is not None:
        query = query.where(LeaveRequest.member_id == filters.member_id)
    if filters.filed_with:
        query = query.where(LeaveRequest.filed_with == filters.filed_with)
    if filters == LeaveFilter() and principal.role in QUEUE_ROLES:
        query = query.where(
            LeaveRequest.status == "pending", LeaveRequest.approver_level == principal.role
        )
    if after_id is not None:
        query = query.where(LeaveRequest.id > after_id)
    return list(session.scalars(query.order_by(LeaveRequest.id).limit(limit)))


def histories(
    session: Session, leave_ids: Sequence[int]
) -> dict[int, list[tuple[LeaveTransition, str | None]]]:
    """The transitions of each request, oldest first, with the actor's username."""
    out: dict[int, list[tuple[LeaveTransition, str | None]]] = {i: [] for i in leave_ids}
    if not leave_ids:
        return out
    rows = session.execute(
        select(LeaveTransition, User.username)
        .outerjoin(User, User.id == LeaveTransition.actor_id)
        .where(LeaveTransition.leave_id.in_(leave_ids))
        .order_by(LeaveTransition.id)
    )
    for transition, username in rows:
        out[transition.leave_id].append((transition, username))
    return out


# --- overdue -------------------------------------------------------------------------------


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
            emit(session, "leave.overdue", {**_payload(leave), "overdue_since": str(first_day)})
            queued += 1
    return queued


# --- helpers -------------------------------------------------------------------------------


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise InvalidRange(
            reason="结束日期早于开始日期。", reason_en="The end date is before the start date."
        )


def _check_overlap(session: Session, member_id: int, start: date, end: date) -> None:
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


def _active_child(session: Session, leave_id: int) -> LeaveRequest | None:
    return session.scalar(
        select(LeaveRequest).where(
            LeaveRequest.extends_id == leave_id, LeaveRequest.status.in_(rules.ACTIVE_STATUSES)
        )
    )


def _refresh(session: Session, policy: Policy, leave: LeaveRequest, start: date, end: date) -> None:
    session.flush()
    on_days_changed(session, policy, leave.member_id, ledger_rules.days_between(start, end))


def _transition(
    session: Session,
    leave: LeaveRequest,
    principal: Principal,
    before: str | None,
    after: str,
    comment: str | None,
) -> None:
    at = utcnow()
    session.add(
        LeaveTransition(
            leave_id=leave.id,
            actor_id=principal.user_id,
            at=at,
            from_status=before,
            to_status=after,
            comment=comment,
        )
    )
    # Every transition is a privileged action: logged with what `audit verify` matches the
    # transition row against.
    audit_actions.record(
        session,
        actor=principal.user_id,
        action=_logged_action(leave, after),
        subject=f"leave:{leave.id}",
        payload={
            "member_id": leave.member_id,
            "from": before,
            "to": after,
            "comment": comment,
            "at": at,
        },
        about=audit_actions.About(leave.member_id, leave.start_date),
    )


def _logged_action(leave: LeaveRequest, after: str) -> str:
    if after == "pending":
        return "leave.extend" if leave.extends_id is not None else "leave.request"
    return {
        "approved": "leave.approve",
        "rejected": "leave.reject",
        "cancelled": "leave.cancel",
        "returned": "leave.return",
    }[after]


def _refused(leave: LeaveRequest, action: rules.Action) -> InvalidTransition:
    zh, en = _ACTION_WORDS[action]
    return InvalidTransition(leave_id=leave.id, status=leave.status, action_zh=zh, action_en=en)


def _payload(leave: LeaveRequest) -> dict[str, Any]:
    return {
        "leave_id": leave.id,
        "member_id": leave.member_id,
        "type": leave.type,
        "status": leave.status,
        "start_date": leave.start_date.isoformat(),
        "end_date": leave.end_date.isoformat(),
        "days": leave.days,
        "approver_level": leave.approver_level,
        "filed_with": leave.filed_with,
        "extends_id": leave.extends_id,
        "decided_by": leave.decided_by,
        "decided_at": as_utc(leave.decided_at).isoformat() if leave.decided_at else None,
        "returned_on": leave.returned_on.isoformat() if leave.returned_on else None,
    }
