"""Tables of the supervision domain. Every row says who wrote it and when."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
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

EVENT_KINDS = ("petition", "safety", "dispute", "other")
RECTIFICATION_SOURCES = ("violation", "inspection", "manual")
RECTIFICATION_STATUSES = ("open", "closed")


class RollCall(Base):
    """A roll call (点名) over a division prefix, open from `issued_at` to `deadline`."""

    __tablename__ = "roll_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(12), index=True)
    message: Mapped[str] = mapped_column(Text)
    window_minutes: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The local date whose assignments and leave decide who is called and who is excused.
    call_date: Mapped[date] = mapped_column(Date)
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class RollCallMember(Base):
    """A member called by a roll call, with the village they were assigned to on its day."""

    __tablename__ = "roll_call_members"

    roll_call_id: Mapped[int] = mapped_column(ForeignKey("roll_calls.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    village_code: Mapped[str] = mapped_column(String(12))

    # A member's open calls (GET /me/roll-calls) and a member's record (年考).
    __table_args__ = (Index("ix_roll_call_members_member", "member_id"),)


class Inspection(Base):
    """An unannounced visit (突击暗访) to a village, as the inspector recorded it."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), index=True)
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    visit_date: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InspectionMember(Base):
    """Whom the inspector found present or absent."""

    __tablename__ = "inspection_members"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    found: Mapped[str] = mapped_column(String(8))

    __table_args__ = (
        CheckConstraint("found IN ('present', 'absent')", name="found"),
        Index("ix_inspection_members_member", "member_id"),
    )


class EventReport(Base):
    """A major event (大事报告) a member reported for their village."""

    __tablename__ = "event_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    summary: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    reported_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ack_comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("kind IN ('petition', 'safety', 'dispute', 'other')", name="kind"),
    )


class Rectification(Base):
    """An item of the rectification ledger (整改台账): what a member must put right, by when."""

    __tablename__ = "rectifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # the dispatching unit
    # The member's village when it was opened: what "in scope" means for the item.
    village_code: Mapped[str | None] = mapped_column(String(12), index=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    violation_code: Mapped[str | None] = mapped_column(String(32))
    violation_period: Mapped[str | None] = mapped_column(String(8))
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    requirement: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_level: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_on: Mapped[date] = mapped_column(Date)  # local date
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_level: Mapped[str | None] = mapped_column(String(16))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_on: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[str | None] = mapped_column(Text)
    # When the overdue scan queued its `rectification.overdue` event (once per item).
    overdue_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("source_kind IN ('violation', 'inspection', 'manual')", name="source"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        Index("ix_rectifications_status_due", "status", "due_date"),
    )


class RectificationTransition(Base):
    """One step of a rectification's life: who moved it, at which level, when and why."""

    __tablename__ = "rectification_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_level: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    from_status: Mapped[str | None] = mapped_column(String(8))
    to_status: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
