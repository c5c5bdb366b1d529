"""Dispatching units' offices (两头跑): set by county users and up for a unit with a member
posted in their scope, read by the check-in judgement (`at_home_unit`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.auth.principal import Principal
from app.geo.coords import to_wgs84
from app.org.errors import UnitNotFound
from app.org.models import Assignment, Member, Unit
from app.org.schemas import UnitOfficeIn, UnitOfficeOut


def visible_unit(session: Session, principal: Principal, name: str, *, lock: bool = False) -> Unit:
    """The unit named `name` when the caller may see it: an admin any; a `unit` user their
    own; a division user one that has (or had) a member posted under their prefix. Else 404."""
    query = select(Unit).where(Unit.name == name)
    if principal.role == "unit":
        query = query.where(Unit.name == principal.scope)
    elif principal.role != "admin":
        posted = (
            select(Assignment.id)
            .join(Member, Member.id == Assignment.member_id)
            .where(
                Member.unit_id == Unit.id,
                Assignment.village_code.startswith(principal.scope, autoescape=True),
            )
        )
        query = query.where(exists(posted))
    if lock:
        query = query.with_for_update()
    unit = session.scalar(query)
    if unit is None:
        raise UnitNotFound(name=name)
    return unit


def set_office(
    session: Session, principal: Principal, name: str, body: UnitOfficeIn, at: datetime
) -> UnitOfficeOut:
    """Set (or move) the unit's office. Fixes already stored keep their judgement: a flag is
    evidence of where the office was when the fix arrived."""
    unit = visible_unit(session, principal, name, lock=True)
    lon, lat = to_wgs84(body.longitude, body.latitude, body.coord_system)
    before = office_of(unit)
    unit.office_latitude, unit.office_longitude = lat, lon
    unit.office_radius_m = body.radius_m
    unit.office_set_at, unit.office_set_by = at, principal.user_id
    session.flush()
    audit_actions.record(
        session,
        actor=principal.user_id,
        action="unit.office",
        subject=f"unit:{unit.id}",
        payload={
            "name": unit.name,
            "latitude": lat,
            "longitude": lon,
            "radius_m": body.radius_m,
            "coord_system": body.coord_system,
            "replaced": before is not None,
        },
    )
    out = office_of(unit)
    assert out is not None
    return out


def office_of(unit: Unit) -> UnitOfficeOut | None:
    if (
        unit.office_latitude is None
        or unit.office_longitude is None
        or unit.office_radius_m is None
        or unit.office_set_at is None
    ):
        return None
    return UnitOfficeOut(
        name=unit.name,
        latitude=unit.office_latitude,
        longitude=unit.office_longitude,
        radius_m=unit.office_radius_m,
        set_at=unit.office_set_at,
        set_by=unit.office_set_by,
    )
