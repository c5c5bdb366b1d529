"""Leave rules as pure functions: lengths, routing by tier, allowed transitions, overlap."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from app.core.policy import LeavePolicy

Action = Literal["approve", "reject", "cancel", "return", "extend"]

# Requests that hold their days against a new request.
ACTIVE_STATUSES = ("pending", "approved")
HOLDING_STATUSES = ("pending", "approved", "returned")


def leave_days(start: date, end: date) -> int:
    """Calendar days, both ends included."""
    return (end - start).days + 1


def route(policy: LeavePolicy, total_days: int) -> tuple[str, str | None]:
    """(approver level, filed with) for a leave (or chain of extensions) of `total_days`."""
    tier = policy.tier_for(total_days)
    return tier.approver, tier.filed_with


def held_days(
    status: str, start: date, end: date, returned_on: date | None
) -> tuple[date, date] | None:
    """The days a request keeps from other requests: a return frees the days from returned_on."""
    if status not in HOLDING_STATUSES:
        return None
    if returned_on is not None:
        end = min(end, returned_on - timedelta(days=1))
    return (start, end) if start <= end else None


def overlaps(a: tuple[date, date], b: tuple[date, date]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def allowed(action: Action, status: str, start: date, today: date) -> bool:
    """Whether `action` may be taken on a request in `status` starting on `start`.

    Decisions are taken once, on pending requests; a member cancels while pending or before an
    approved leave begins; return and extension apply to approved leave.
    """
    if action in ("approve", "reject"):
        return status == "pending"
    if action == "cancel":
        return status == "pending" or (status == "approved" and today < start)
    return status == "approved"
