"""Tables of the leave domain: requests and the trail of their transitions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class LeaveType(StrEnum):
    PERSONAL = "personal"  # 事假
    SICK = "sick"  # 病假
    ANNUAL = "annual"  # 年休假
    OFFICIAL = "official"  # 公出: away on the unit's business
    RECALL = "recall"  # 召回: the dispatching unit calls the member back


class LeaveStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    RETURNED = "returned"  # 已销假


class LeaveRequest(Base):
    """A member's leave (请假) from `start_date` to `end_date`, both included."""

    __tablename__ = "leave_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    type: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    # Routed by policy.leave.tier_for(total days of the chain this request belongs to).
    approver_level: Mapped[str] = mapped_column(String(16))
    filed_with: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    # The first day back in the village (销假), not a leave day.
    returned_on: Mapped[date | None] = mapped_column(Date)
    extends_id: Mapped[int | None] = mapped_column(ForeignKey("leave_requests.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set once the overdue event for an overstay has been queued.
    overdue_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="ordered_dates"),
        CheckConstraint(
            "type IN ('personal', 'sick', 'annual', 'official', 'recall')", name="type"
        ),
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'cancelled', 'returned')",
            name="status",
        ),
        Index("ix_leave_requests_member_start", "member_id", "start_date"),
        Index("ix_leave_requests_status_level", "status", "approver_level"),
        Index("ix_leave_requests_extends_id", "extends_id"),
    )


class LeaveTransition(Base):
    """One step of a request's life: who moved it from which status to which, when and why."""

    __tablename__ = "leave_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    leave_id: Mapped[int] = mapped_column(ForeignKey("leave_requests.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
