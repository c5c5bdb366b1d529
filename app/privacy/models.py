"""Complaints and suggestions (投诉建议). The access log and the purge marks live with the chains
they extend (`app.audit.models`, `app.checkins.models`); the acknowledged notice on the user."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base

KINDS = ("complaint", "suggestion", "burden", "data_correction")


class Feedback(Base):
    """One complaint, suggestion, burden report or data correction, and its one answer."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    about_kind: Mapped[str | None] = mapped_column(String(32))
    about_id: Mapped[str | None] = mapped_column(String(64))
    # Where it comes from, for who answers it: the filer's village (a member's, on the day
    # filed) or their scope's division prefix; "" when neither (an admin's, a unit's).
    division_code: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_date: Mapped[date] = mapped_column(Date)  # `reply_workdays` working days after filing
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "kind IN ('complaint', 'suggestion', 'burden', 'data_correction')", name="kind"
        ),
        Index("ix_feedback_user", "user_id", "id"),
        Index("ix_feedback_division_code", "division_code"),
    )
