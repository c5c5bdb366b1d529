"""Queries and rules about villages, members and assignments, with the caller's scope."""

from __future__ import annotations

from datetime import date

from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.orm import Session, defer

from app.auth.principal import Principal
from app.core.time import utcnow
from app.org.errors import AssignmentOverlap, MemberNotFound, VillageNotFound
from app.org.models import Assignment, Member, Unit, Village, VillageBoundary


def village_visibility(principal: Principal) -> ColumnElement[bool]:
    """A filter on `Village` that keeps the villages this caller may see."""
    prefix = principal.division_prefix
    if prefix is not None:
        return Village.code.startswith(prefix) if prefix else true()
    if principal.role == "member" and principal.member_id is not None:
        return exists().where(
            Assignment.member_id == principal.member_id, Assignment.village_code == Village.code
        )
    if principal.role == "unit":
        return exists().where(
            Assignment.village_code == Village.code,
            Assignment.member_id == Member.id,
            Member.unit_id == Unit.id,
            Unit.name == principal.scope,
        )
    return false()


def member_visibility(principal: Principal) -> ColumnElement[bool]:
    """A filter on `Member` that keeps the members this caller may see."""
    if principal.role == "member":
        return Member.id == principal.member_id if principal.member_id else false()
    if principal.role == "unit":
        return Member.unit_id.in_(select(Unit.id).where(Unit.name == principal.scope))
    prefix = principal.division_prefix
    if prefix is None:
        return false()
    if prefix == "":
        return true()
    return exists().where(
        Assignment.member_id == Member.id, Assignment.village_code.startswith(prefix)
    )


def get_visible_member(session: Session, principal: Principal, member_id: int) -> Member:
    member = session.scalar(
        select(Member).where(Member.id == member_id, member_visibility(principal))
    )
    if member is None:
        raise MemberNotFound(member_id=member_id)
    return member


def list_villages(
    session: Session,
    principal: Principal,
    scope: str | None,
    after_code: str | None,
    limit: int,
) -> list[Village]:
    query = select(Village).where(village_visibility(principal))
    if scope:
        query = query.where(Village.code.startswith(scope))
    if after_code:
        query = query.where(Village.code > after_code)
    return list(session.scalars(query.order_by(Village.code).limit(limit)))


def visible_village(session: Session, principal: Principal, code: str) -> Village | None:
    return session.scalar(
        select(Village).where(Village.code == code, village_visibility(principal))
    )


def get_visible_village(
    session: Session, principal: Principal, code: str
) -> tuple[Village, VillageBoundary]:
    row = session.execute(
        select(Village, VillageBoundary)
        .join(VillageBoundary, VillageBoundary.village_code == Village.code)
        .where(Village.code == code, VillageBoundary.valid_to.is_(None))
        .where(village_visibility(principal))
        # Loaded when read: most callers only check that the village is visible, and a
        # surveyed boundary may be megabytes (app.org.outlines serves it simplified).
        .options(defer(VillageBoundary.boundary))
    ).first()
    if row is None:
        raise VillageNotFound(code=code)
    return row[0], row[1]


def current_boundaries(session: Session) -> list[tuple[str, BaseGeometry]]:
    """(code, boundary) of every village's current boundary version."""
    rows = session.execute(
        select(VillageBoundary.village_code, VillageBoundary.boundary).where(
            VillageBoundary.valid_to.is_(None)
        )
    )
    return [(code, geom) for code, geom in rows]


def assignment_on(session: Session, member_id: int, day: date) -> Assignment | None:
    """The member's assignment holding `day`, if any (at most one: overlaps are refused)."""
    return session.scalar(
        select(Assignment).where(
            Assignment.member_id == member_id,
            Assignment.start_date <= day,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= day),
        )
    )


def assignments_between(
    session: Session, member_id: int, start: date, end: date
) -> list[Assignment]:
    """The member's assignments that touch [start, end], oldest first."""
    return list(
        session.scalars(
            select(Assignment)
            .where(
                Assignment.member_id == member_id,
                Assignment.start_date <= end,
                or_(Assignment.end_date.is_(None), Assignment.end_date >= start),
            )
            .order_by(Assignment.start_date)
        )
    )


def add_assignment(
    session: Session, member_id: int, village_code: str, start: date, end: date | None
) -> Assignment:
    """A new assignment; refused when it overlaps one the member already has."""
    overlap_end = end or date.max
    clash = session.scalar(
        select(Assignment).where(
            Assignment.member_id == member_id,
            Assignment.start_date <= overlap_end,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= start),
        )
    )
    if clash is not None:
        raise AssignmentOverlap(
            member_id=member_id, start=clash.start_date, end=clash.end_date or "…"
        )
    if session.get(Village, village_code) is None:
        raise VillageNotFound(code=village_code)
    assignment = Assignment(
        member_id=member_id, village_code=village_code, start_date=start, end_date=end
    )
    session.add(assignment)
    session.flush()
    return assignment


def village_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(select(Village.code, Village.name).where(Village.code.in_(codes)))
    return dict(rows.all())


def get_or_create_unit(session: Session, name: str) -> tuple[Unit, bool]:
    """The dispatching unit called `name`, created if new; (unit, whether it was created)."""
    unit = session.scalar(select(Unit).where(Unit.name == name))
    if unit is not None:
        return unit, False
    unit = Unit(name=name)
    session.add(unit)
    session.flush()
    return unit, True


def create_member(session: Session, full_name: str, position: str, unit_id: int) -> Member:
    member = Member(full_name=full_name, position=position, unit_id=unit_id, created_at=utcnow())
    session.add(member)
    session.flush()
    return member
