"""Villages, their boundary versions, dispatching units, members and their assignments."""

from __future__ import annotations

from datetime import date, datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.geometry import GeometryType


class Village(Base):
    __tablename__ = "villages"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Derived from the code, stored so that scoped queries are plain prefix/equality filters.
    township_code: Mapped[str] = mapped_column(String(9), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("length(code) = 12", name="code_12_digits"),)


class VillageBoundary(Base):
    """One version of a village's boundary; the open version (valid_to NULL) is current."""

    __tablename__ = "village_boundaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), index=True)
    boundary: Mapped[BaseGeometry] = mapped_column(GeometryType("MULTIPOLYGON"))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "uq_village_boundaries_open",
            "village_code",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
        # Spatial SQL (reports, the PostGIS agreement test) filters by boundary.
        Index("ix_village_boundaries_boundary", "boundary", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )


class BoundaryRevision(Base):
    """A single row whose counter goes up whenever any boundary changes.

    Every process compares it with the revision its in-memory geofence index was built from:
    one primary-key read per check-in instead of a rebuild. It never takes a value twice for
    one database, even one recreated under running processes (see `app.org.boundaries`).
    """

    __tablename__ = "boundary_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), default=0)


class Unit(Base):
    """A dispatching unit (派驻单位), with its office when one was set (两头跑: a member's fix
    there on a working day is the evidence flag `at_home_unit`)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The office: a point (WGS84, after conversion) and a radius; all NULL until set.
    office_latitude: Mapped[float | None] = mapped_column(Float)
    office_longitude: Mapped[float | None] = mapped_column(Float)
    office_radius_m: Mapped[float | None] = mapped_column(Float)
    office_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The user who set it (the actions log holds each change). No foreign key: adding one
    # would rebuild this much-referenced table on SQLite.
    office_set_by: Mapped[int | None] = mapped_column(Integer)


class Member(Base):
    """A person dispatched to a village: first secretary or work-team member."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    full_name: Mapped[str] = mapped_column(String(100))
    position: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "position IN ('first_secretary', 'team_leader', 'team_member')", name="position"
        ),
    )


class Assignment(Base):
    """A member's posting to a village from `start_date` to `end_date` (inclusive, open-ended)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ordered_dates"),
    )


class VillageAccessPoint(Base):
    """A Wi-Fi access point known to be in a village (the committee office, the team's
    dormitory), registered by a township user: a phone that sees it corroborates a fix."""

    __tablename__ = "village_access_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"))
    bssid: Mapped[str] = mapped_column(String(17))  # aa:bb:cc:dd:ee:ff
    label: Mapped[str] = mapped_column(String(100))
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("village_code", "bssid", name="uq_village_access_points_bssid"),
    )
