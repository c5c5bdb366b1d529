"""Check-ins (append-only, hash-chained per member), their reviews, and chain heads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.models import ChainHead as ChainHead  # chain heads live in the audit package
from app.core.db import Base

# BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class CheckIn(Base):
    """One fix as the phone sent it and as the service judged it on arrival. Never updated,
    except by the retention purge, which nulls its raw position once (`purged_at`)."""

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
    # NULL once purged (`app.privacy.purge`: raw positions are kept `raw_fix_days`).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    raw_latitude: Mapped[float | None] = mapped_column(Float)
    raw_longitude: Mapped[float | None] = mapped_column(Float)
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
    # Retention (`app.privacy.purge`): when the raw position, motion and Wi-Fi were nulled, and
    # the hash of what was kept (`hashing.purged_hash`), bound into the actions log's
    # `privacy.purge` entry of that batch. Both NULL while the fix is whole.
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purge_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # SQLite: the idempotency key and the chain's positions are unique constraints. On
        # PostgreSQL `checkins` is partitioned by month (app.checkins.partitions), where a unique
        # key must hold local_date: the idempotency key is `checkin_keys`'s primary key, and the
        # member's chain-head lock keeps seq unique (an index serves the chain walk).
        UniqueConstraint("member_id", "client_id", name="uq_checkins_member_client").ddl_if(
            dialect="sqlite"
        ),
        UniqueConstraint("member_id", "seq", name="uq_checkins_member_seq").ddl_if(
            dialect="sqlite"
        ),
        Index("ix_checkins_member_seq", "member_id", "seq").ddl_if(dialect="postgresql"),
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
    checkin_id: Mapped[int] = mapped_column(BigId, index=True)
    action: Mapped[str] = mapped_column(String(8))  # void | restore
    reason: Mapped[str] = mapped_column(Text)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # To a check-in: a foreign key on SQLite only (a partitioned table's rows are not
        # referenced by id alone; check-ins are never deleted).
        ForeignKeyConstraint(["checkin_id"], ["checkins.id"]).ddl_if(dialect="sqlite"),
    )


class CheckInFinding(Base):
    """A judgement about a stored check-in made after it was stored (a replayed track noticed
    when a later day arrived): a record beside it, never an edit, and outside the hash chain
    (the chain covers what the phone sent and the judgement on arrival)."""

    __tablename__ = "checkin_findings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    checkin_id: Mapped[int] = mapped_column(BigId)
    code: Mapped[str] = mapped_column(String(24))  # a Flag, e.g. replayed_track
    matched_date: Mapped[date | None] = mapped_column(Date)  # the day it repeats
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)  # the numbers behind it
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The check-in's local date, copied from it by every writer: on PostgreSQL the findings
    # are partitioned by it like the check-ins (app.checkins.partitions), so that a month's
    # findings are read, detached and attached with the month's check-ins.
    local_date: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        # SQLite: one finding of a code per check-in, and the check-in by id. PostgreSQL: a
        # unique key of a partitioned table must hold local_date, so the key is (checkin_id,
        # code, local_date) - the same guarantee, as the foreign key to the check-in's
        # (id, local_date) (its primary key) makes local_date the check-in's one date.
        UniqueConstraint("checkin_id", "code", name="uq_checkin_findings_checkin_code").ddl_if(
            dialect="sqlite"
        ),
        ForeignKeyConstraint(["checkin_id"], ["checkins.id"]).ddl_if(dialect="sqlite"),
        UniqueConstraint(
            "checkin_id", "code", "local_date", name="uq_checkin_findings_checkin_code_day"
        ).ddl_if(dialect="postgresql"),
        ForeignKeyConstraint(
            ["checkin_id", "local_date"],
            ["checkins.id", "checkins.local_date"],
            name="fk_checkin_findings_checkin_day_checkins",
        ).ddl_if(dialect="postgresql"),
    )


class CheckInRejudgement(Base):
    """A stored fix judged again against the member's assignment after a retroactive change
    (a move or an end dated back): the judgement that every reading of the fix uses from then
    on, beside the fix and outside its hash chain (the chain keeps the judgement on arrival).

    One row per fix, replaced when a later change judges it again, deleted when the judgement
    comes back to the one on arrival; the actions log holds each change that caused one (its
    `assignment.*` entry counts the fixes it judged again)."""

    __tablename__ = "checkin_rejudgements"

    checkin_id: Mapped[int] = mapped_column(BigId, primary_key=True)
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

    __table_args__ = (
        # To a check-in: a foreign key on SQLite only (a partitioned table's rows are not
        # referenced by id alone; check-ins are never deleted).
        ForeignKeyConstraint(["checkin_id"], ["checkins.id"]).ddl_if(dialect="sqlite"),
    )


# PostgreSQL only (migration 0021, app.checkins.partitions): not in Base.metadata, which both
# backends build.
pg_only = MetaData()
checkin_keys = Table(
    "checkin_keys",
    pg_only,
    # The idempotency key of the partitioned `checkins`, claimed by its insert trigger.
    Column("member_id", Integer, primary_key=True),
    Column("client_id", String(36), primary_key=True),
    Column("checkin_id", BigInteger, nullable=False),
    Column("local_date", Date, nullable=False),
    Column("body_hash", String(64), nullable=False),
)
checkin_sealed_runs = Table(
    "checkin_sealed_runs",
    pg_only,
    # A detached month's runs of consecutive chain positions, per member.
    Column("member_id", Integer, primary_key=True),
    Column("first_seq", Integer, primary_key=True),
    Column("month", Date, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
)
# The national rollup (migration 0022, app.rollup).
rollup_origin = Table("rollup_origin", pg_only, Column("province", String(12), primary_key=True))
rollup_days = Table(
    "rollup_days",
    pg_only,
    Column("province", String(12), primary_key=True),
    Column("member_id", Integer, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("counted_checkins", Integer, nullable=False),
    Column("present", Boolean, nullable=False),
    Column("leave_id", Integer),
)
# Its compliance results (migration 0024): a member's quota period, judged, no positions.
rollup_compliance = Table(
    "rollup_compliance",
    pg_only,
    Column("province", String(12), primary_key=True),
    Column("member_id", Integer, primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("required_days", Integer, nullable=False),
    Column("present_days", Integer, nullable=False),
    Column("credited_days", Integer, nullable=False),
    Column("leave_days", Integer, nullable=False),
    Column("absent_workdays", Integer, nullable=False),
    Column("needed_days", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("compliant", Boolean, nullable=False),
    Column("violations", JSONB, nullable=False),
    Column("day_line", String(366), nullable=False),
    Column("as_of", Date, nullable=False),
)
