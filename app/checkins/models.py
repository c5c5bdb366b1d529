"""Check-ins (append-only, hash-chained per member), their reviews, and chain heads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.models import ChainHead as ChainHead  # chain heads live in the audit package
from app.core.db import Base

# BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class CheckIn(Base):
    """One fix as the phone sent it and as the service judged it on arrival. Never updated."""

    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    client_id: Mapped[str] = mapped_column(String(36))
    # Position in the member's hash chain (1, 2, …), in order of storage.
    seq: Mapped[int] = mapped_column(Integer)
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    local_date: Mapped[date] = mapped_column(Date)
    # WGS84 after conversion; the raw values and their system as sent are kept beside them.
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    raw_latitude: Mapped[float] = mapped_column(Float)
    raw_longitude: Mapped[float] = mapped_column(Float)
    coord_system: Mapped[str] = mapped_column(String(8))
    accuracy_m: Mapped[float] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    provider: Mapped[str | None] = mapped_column(String(16))
    is_mock: Mapped[bool | None] = mapped_column(Boolean)
    device_id: Mapped[str | None] = mapped_column(String(128))
    roll_call_id: Mapped[str | None] = mapped_column(String(64))
    # The judgement on arrival.
    village_code: Mapped[str | None] = mapped_column(String(12))
    assigned_village_code: Mapped[str | None] = mapped_column(String(12))
    boundary_id: Mapped[int | None] = mapped_column(Integer)  # version judged against
    geofence: Mapped[str | None] = mapped_column(String(8))
    distance_m: Mapped[float | None] = mapped_column(Float)
    credited: Mapped[bool] = mapped_column(Boolean)
    flags: Mapped[str] = mapped_column(String(255), default="")  # comma-separated
    # The numbers behind each flag (`rules.judge_flags`); NULL when none was raised.
    flag_evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The access points the phone saw (BSSIDs, as sent), and whether one is registered in the
    # assigned village.
    wifi: Mapped[list[str] | None] = mapped_column(JSON)
    wifi_match: Mapped[bool | None] = mapped_column(Boolean)
    # Idempotency: the hash of the parsed request body.
    body_hash: Mapped[str] = mapped_column(String(64))
    # Tamper evidence: sha256 of the canonical row content and the previous row's hash.
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("member_id", "client_id", name="uq_checkins_member_client"),
        UniqueConstraint("member_id", "seq", name="uq_checkins_member_seq"),
        Index("ix_checkins_member_local_date", "member_id", "local_date"),
        Index("ix_checkins_member_captured_at", "member_id", "captured_at"),
        Index("ix_checkins_local_date", "local_date"),
        # The repeated-fix check looks a member's exact coordinates up.
        Index("ix_checkins_member_position", "member_id", "latitude", "longitude"),
        # Answers to roll calls: few fixes carry one, so the index stays small.
        Index(
            "ix_checkins_roll_call_id",
            "roll_call_id",
            sqlite_where=text("roll_call_id IS NOT NULL"),
            postgresql_where=text("roll_call_id IS NOT NULL"),
        ),
        # Shared devices (代打卡): a device's fixes of other members than the uploader, as two
        # index ranges either side of the uploader's id. Only fixes that carry a device.
        Index(
            "ix_checkins_device",
            "device_id",
            "member_id",
            "captured_at",
            sqlite_where=text("device_id IS NOT NULL"),
            postgresql_where=text("device_id IS NOT NULL"),
        ),
        # Compliance counts flagged fixes over a whole city: only they are indexed.
        Index(
            "ix_checkins_flagged",
            "member_id",
            "local_date",
            sqlite_where=text("flags <> ''"),
            postgresql_where=text("flags <> ''"),
        ),
    )


class CheckInReview(Base):
    """A reviewer's void or restore of a check-in: a record beside it, never an edit."""

    __tablename__ = "checkin_reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))  # void | restore
    reason: Mapped[str] = mapped_column(Text)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CheckInFinding(Base):
    """A judgement about a stored check-in made after it was stored (a replayed track noticed
    when a later day arrived): a record beside it, never an edit, and outside the hash chain
    (the chain covers what the phone sent and the judgement on arrival)."""

    __tablename__ = "checkin_findings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id"))
    code: Mapped[str] = mapped_column(String(24))  # a Flag, e.g. replayed_track
    matched_date: Mapped[date | None] = mapped_column(Date)  # the day it repeats
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)  # the numbers behind it
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("checkin_id", "code", name="uq_checkin_findings_checkin_code"),
    )


class CheckInRejudgement(Base):
    """A stored fix judged again against the member's assignment after a retroactive change
    (a move or an end dated back): the judgement that every reading of the fix uses from then
    on, beside the fix and outside its hash chain (the chain keeps the judgement on arrival).

    One row per fix, replaced when a later change judges it again, deleted when the judgement
    comes back to the one on arrival; the actions log holds each change that caused one (its
    `assignment.*` entry counts the fixes it judged again)."""

    __tablename__ = "checkin_rejudgements"

    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id"), primary_key=True)
    assigned_village_code: Mapped[str | None] = mapped_column(String(12))
    boundary_id: Mapped[int | None] = mapped_column(Integer)
    geofence: Mapped[str | None] = mapped_column(String(8))
    distance_m: Mapped[float | None] = mapped_column(Float)
    credited: Mapped[bool] = mapped_column(Boolean)
    flags: Mapped[str] = mapped_column(String(255), default="")
    flag_evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    wifi_match: Mapped[bool | None] = mapped_column(Boolean)
    cause: Mapped[str] = mapped_column(String(32))  # the action, e.g. assignment.move
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
