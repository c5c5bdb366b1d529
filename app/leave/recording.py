"""What every transition leaves behind: its row, its logged action (which `audit verify`
matches against the row), the ledger days it touches, the outbox payload, and the refusal of
a transition not allowed."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.auth.principal import Principal
from app.core.policy import Policy
from app.core.time import as_utc, utcnow
from app.leave import rules
from app.leave.errors import InvalidTransition
from app.leave.models import LeaveRequest, LeaveTransition
from app.ledger import rules as ledger_rules
from app.ledger.refresh import on_days_changed

ACTION_WORDS = {
    "approve": ("批准", "approved"),
    "reject": ("驳回", "rejected"),
    "cancel": ("撤销", "cancelled"),
    "return": ("销假", "returned from"),
    "extend": ("续假", "extended"),
}


def refresh(session: Session, policy: Policy, leave: LeaveRequest, start: date, end: date) -> None:
    session.flush()
    on_days_changed(session, policy, leave.member_id, ledger_rules.days_between(start, end))


def transition(
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
        action=logged_action(leave, after),
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


def logged_action(leave: LeaveRequest, after: str) -> str:
    if after == "pending":
        return "leave.extend" if leave.extends_id is not None else "leave.request"
    return {
        "approved": "leave.approve",
        "rejected": "leave.reject",
        "cancelled": "leave.cancel",
        "returned": "leave.return",
    }[after]


def refused(leave: LeaveRequest, action: rules.Action) -> InvalidTransition:
    zh, en = ACTION_WORDS[action]
    return InvalidTransition(leave_id=leave.id, status=leave.status, action_zh=zh, action_en=en)


def payload(leave: LeaveRequest) -> dict[str, Any]:
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
