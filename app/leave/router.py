"""HTTP routes of the leave domain (请销假)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from app.auth.dependencies import CurrentPrincipal, MemberPrincipal, require_roles
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.core.deps import PolicyDep, SessionDep
from app.core.errors import error_responses
from app.core.inputs import IdPath, IdQuery, Text
from app.core.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    InvalidCursor,
    LimitQuery,
    Page,
    cursor_id,
    encode_cursor,
)
from app.core.time import today
from app.leave import service
from app.leave.errors import (
    ApproverLevelMismatch,
    InvalidRange,
    InvalidTransition,
    LeaveNotFound,
    LeaveOutsideAssignment,
    LeaveOverlap,
    RetroactiveLeave,
)
from app.leave.models import LeaveRequest, LeaveStatus
from app.leave.schemas import (
    LeaveCancel,
    LeaveCreate,
    LeaveDecision,
    LeaveExtend,
    LeaveRequestOut,
    LeaveReturn,
    LeaveTransitionOut,
)
from app.org.errors import MemberNotFound
from app.org.service import get_visible_member

router = APIRouter(tags=["leave"])

LeaveId = IdPath
ApproverPrincipal = Annotated[Principal, Depends(require_roles("township", "county", "city"))]


@router.post(
    "/leave-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=LeaveRequestOut,
    responses=error_responses(
        RoleRequired, LeaveOverlap, RetroactiveLeave, InvalidRange, LeaveOutsideAssignment
    ),
)
def create_leave_request(
    body: LeaveCreate, principal: MemberPrincipal, session: SessionDep, policy: PolicyDep
) -> LeaveRequestOut:
    """Ask for leave; routed by length to the township (≤3 days) or the county (filed with the
    city), per the policy's tiers."""
    leave = service.request_leave(
        session,
        policy,
        principal,
        type=body.type,
        start=body.start_date,
        end=body.end_date,
        reason=body.reason,
        emergency=body.emergency,
        today=today(policy.zone),
    )
    return _out(session, leave)


@router.get(
    "/leave-requests",
    response_model=Page[LeaveRequestOut],
    responses=error_responses(MemberNotFound, InvalidCursor),
)
def list_leave_requests(
    principal: CurrentPrincipal,
    session: SessionDep,
    status: LeaveStatus | None = None,
    member_id: IdQuery | None = None,
    filed_with: Annotated[
        Text | None, Query(max_length=16, description="`city`: the filings of long leave")
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[LeaveRequestOut]:
    """Leave requests in the caller's scope; an approver with no filter gets their queue
    (pending requests at their level). A `member_id` outside your scope is 404
    `member_not_found`, as everywhere a member is named."""
    if member_id is not None:
        get_visible_member(session, principal, member_id)
    after = cursor_id(cursor)
    filters = service.LeaveFilter(status=status, member_id=member_id, filed_with=filed_with)
    rows = service.list_requests(session, principal, filters, after, limit + 1)
    page = rows[:limit]
    next_cursor = encode_cursor([page[-1].id]) if len(rows) > limit else None
    return Page[LeaveRequestOut](items=_outs(session, page), next_cursor=next_cursor)


@router.get(
    "/leave-requests/{leave_id}",
    response_model=LeaveRequestOut,
    responses=error_responses(LeaveNotFound),
)
def get_leave_request(
    leave_id: LeaveId, principal: CurrentPrincipal, session: SessionDep
) -> LeaveRequestOut:
    """One request with its history."""
    return _out(session, service.get_visible(session, principal, leave_id))


_DECISION_ERRORS = error_responses(
    RoleRequired, ApproverLevelMismatch, LeaveNotFound, InvalidTransition
)


@router.post(
    "/leave-requests/{leave_id}/approve",
    response_model=LeaveRequestOut,
    responses=_DECISION_ERRORS,
)
def approve_leave(
    leave_id: LeaveId,
    principal: ApproverPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    body: LeaveDecision | None = None,
) -> LeaveRequestOut:
    """Approve: only a user of the request's approver level whose scope holds the member's
    village on the leave's first day."""
    leave = service.decide(
        session,
        policy,
        principal,
        leave_id,
        approve=True,
        comment=body.comment if body else None,
        today=today(policy.zone),
    )
    return _out(session, leave)


@router.post(
    "/leave-requests/{leave_id}/reject",
    response_model=LeaveRequestOut,
    responses=_DECISION_ERRORS,
)
def reject_leave(
    leave_id: LeaveId,
    principal: ApproverPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    body: LeaveDecision | None = None,
) -> LeaveRequestOut:
    """Reject, under the same rule as approving."""
    leave = service.decide(
        session,
        policy,
        principal,
        leave_id,
        approve=False,
        comment=body.comment if body else None,
        today=today(policy.zone),
    )
    return _out(session, leave)


@router.post(
    "/leave-requests/{leave_id}/cancel",
    response_model=LeaveRequestOut,
    responses=error_responses(RoleRequired, LeaveNotFound, InvalidTransition),
)
def cancel_leave(
    leave_id: LeaveId,
    principal: MemberPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    body: LeaveCancel | None = None,
) -> LeaveRequestOut:
    """The member withdraws a request while pending, or an approved leave before it starts."""
    leave = service.cancel(
        session,
        policy,
        principal,
        leave_id,
        comment=body.comment if body else None,
        today=today(policy.zone),
    )
    return _out(session, leave)


@router.post(
    "/leave-requests/{leave_id}/return",
    response_model=LeaveRequestOut,
    responses=error_responses(RoleRequired, LeaveNotFound, InvalidTransition, InvalidRange),
)
def return_from_leave(
    leave_id: LeaveId,
    body: LeaveReturn,
    principal: MemberPrincipal,
    session: SessionDep,
    policy: PolicyDep,
) -> LeaveRequestOut:
    """销假: the member reports back; the days from `returned_on` stop counting as leave."""
    leave = service.report_return(
        session,
        policy,
        principal,
        leave_id,
        returned_on=body.returned_on,
        comment=body.comment,
        today=today(policy.zone),
    )
    return _out(session, leave)


@router.post(
    "/leave-requests/{leave_id}/extend",
    status_code=status.HTTP_201_CREATED,
    response_model=LeaveRequestOut,
    responses=error_responses(
        RoleRequired, LeaveNotFound, InvalidTransition, InvalidRange, LeaveOverlap, RetroactiveLeave
    ),
)
def extend_leave(
    leave_id: LeaveId,
    body: LeaveExtend,
    principal: MemberPrincipal,
    session: SessionDep,
    policy: PolicyDep,
) -> LeaveRequestOut:
    """A new request continuing an approved leave, routed by the total length of both."""
    leave = service.extend(
        session,
        policy,
        principal,
        leave_id,
        end=body.end_date,
        reason=body.reason,
        emergency=body.emergency,
        today=today(policy.zone),
    )
    return _out(session, leave)


def _out(session: Session, leave: LeaveRequest) -> LeaveRequestOut:
    return _outs(session, [leave])[0]


def _outs(session: Session, leaves: list[LeaveRequest]) -> list[LeaveRequestOut]:
    session.flush()
    trails = service.histories(session, [leave.id for leave in leaves])
    return [
        LeaveRequestOut.model_validate(
            {
                **{c: getattr(leave, c) for c in _FIELDS},
                "history": [
                    LeaveTransitionOut.model_validate(
                        {
                            "at": t.at,
                            "actor_id": t.actor_id,
                            "actor": username,
                            "from_status": t.from_status,
                            "to_status": t.to_status,
                            "comment": t.comment,
                        }
                    )
                    for t, username in trails[leave.id]
                ],
            }
        )
        for leave in leaves
    ]


_FIELDS = [f for f in LeaveRequestOut.model_fields if f != "history"]
