"""Reading leave: lists (an approver's queue by default) and each request's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.principal import Principal
from app.leave.models import LeaveRequest, LeaveTransition
from app.leave.visibility import leave_visibility


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
