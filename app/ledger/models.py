"""Tables of the ledger domain.

`presence_days` stores the facts of a member's local day that do not depend on the clock: the
counted check-ins, the first and last counted times, whether the day rule is met, and the leave
covering it. A row exists only for a day with a counted fix or covering leave; everything that
depends on "today" (pending, absent, overstay) or on assignments (unassigned) is derived when
read, so no row goes stale as time passes or an assignment changes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class PresenceDay(Base):
    __tablename__ = "presence_days"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    counted_checkins: Mapped[int] = mapped_column(Integer)
    first_counted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_counted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    present: Mapped[bool] = mapped_column(Boolean)  # the day rule is met
    leave_id: Mapped[int | None] = mapped_column(ForeignKey("leave_requests.id"))

    __table_args__ = (Index("ix_presence_days_day", "day"),)
