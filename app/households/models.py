"""Tables of the households domain. A change of 帮扶责任人 is a new pairing row, never an edit;
every plan is a new version."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")

CATEGORIES = ("lifted", "monitored", "ordinary")
RISKS = ("high", "key", "general")
CONFIRMATIONS = ("pending", "confirmed", "denied", "unconfirmed")


class Household(Base):
    """A household (户) of a village, its point in WGS84. `member_id`, `paired_from` and
    `last_visit_*` are kept in step with the pairings and visits, so that a county's list and
    its overdue filter are plain column filters."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    household_code: Mapped[str] = mapped_column(String(32), unique=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"))
    head_name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    longitude: Mapped[float] = mapped_column(Float)
    latitude: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(12))
    risk: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(20))
    # The current pairing (the open one), repeated from household_pairings.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    paired_from: Mapped[date | None] = mapped_column(Date)
    # The last credited visit that no answer denied (any member's).
    last_visit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_visit_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("category IN ('lifted', 'monitored', 'ordinary')", name="category"),
        CheckConstraint("risk IN ('high', 'key', 'general')", name="risk"),
        Index("ix_households_village_id", "village_code", "id"),
    )


class HouseholdPairing(Base):
    """A member paired with a household (帮扶责任人) from `from_date` to `to_date` (inclusive)."""

    __tablename__ = "household_pairings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(80))  # user:<id> or cli:<login>
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("to_date IS NULL OR to_date >= from_date", name="ordered_dates"),
    )


class Visit(Base):
    """A member's visit to a household (入户走访), its fix stored as a check-in too."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    checkin_id: Mapped[int] = mapped_column(BigId, ForeignKey("checkins.id"))
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    local_date: Mapped[date] = mapped_column(Date)
    latitude: Mapped[float] = mapped_column(Float)  # WGS84
    longitude: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    distance_m: Mapped[float] = mapped_column(Float)
    at_household: Mapped[bool] = mapped_column(Boolean)
    credited: Mapped[bool] = mapped_column(Boolean)
    confirmation: Mapped[str] = mapped_column(String(12))
    flags: Mapped[str] = mapped_column(String(200), default="")
    topics: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    problems_found: Mapped[bool] = mapped_column(Boolean, default=False)
    body_hash: Mapped[str] = mapped_column(String(64))
    # Where the member's request came from: a confirming browser that matches it is suspect.
    source_key: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("member_id", "client_id", name="uq_visits_member_client"),
        CheckConstraint(
            "confirmation IN ('pending', 'confirmed', 'denied', 'unconfirmed')",
            name="confirmation",
        ),
        Index("ix_visits_member_date", "member_id", "local_date"),
        Index("ix_visits_household_captured", "household_id", "captured_at"),
    )


class Countersign(Base):
    """The household's confirmation of a visit: a one-time link and a 6-digit code, stored as
    keyed hashes only (the secrets are re-derived from `salt` with the server's key)."""

    __tablename__ = "countersigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    visit_id: Mapped[int] = mapped_column(BigId, ForeignKey("visits.id"), unique=True)
    salt: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed: Mapped[bool | None] = mapped_column(Boolean)
    knows_member: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(String(8))
    confirmer_key: Mapped[str | None] = mapped_column(String(64), index=True)

    __table_args__ = (
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="score"),
    )


class CallbackDraw(Base):
    """A random draw of visits (and households) to call back (回访); `seed` re-derives it."""

    __tablename__ = "callback_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(12))
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date] = mapped_column(Date)
    share: Mapped[float] = mapped_column(Float)
    min_per_member: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(32))
    drawn_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Callback(Base):
    """One call to a household, and what it answered."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("callback_draws.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("visits.id"))
    village_code: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(8))
    reached: Mapped[bool | None] = mapped_column(Boolean)
    visit_confirmed: Mapped[str | None] = mapped_column(String(8))
    knows_member: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'done')", name="status"),
        CheckConstraint(
            "visit_confirmed IS NULL OR visit_confirmed IN ('yes', 'no', 'unsure')",
            name="visit_confirmed",
        ),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="score"),
    )


class HouseholdPlan(Base):
    """One version of a household's plan (一户一策); its measures as JSON text."""

    __tablename__ = "household_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    version: Mapped[int] = mapped_column(Integer)
    measures: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The earliest due date of a measure not done: what "overdue" filters on.
    next_due: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("household_id", "version", name="uq_household_plans_version"),
    )
