"""Villages (list, boundary, Wi-Fi access points) and the caller's own assignment; locating
a point is the geofence's (app/geofence/router.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.auth.dependencies import (
    CurrentPrincipal,
    MemberPrincipal,
    SupervisorPrincipal,
    require_roles,
)
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.core.deps import PolicyDep, SessionDep
from app.core.errors import error_responses
from app.core.inputs import DivisionPrefix
from app.core.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    InvalidCursor,
    LimitQuery,
    Page,
    cursor_text,
    encode_cursor,
)
from app.core.time import today, utcnow
from app.org import access_points, service, units
from app.org.divisions import county_of, township_of
from app.org.errors import (
    InvalidScope,
    NoAssignment,
    ScopeNotFound,
    UnitNotFound,
    VillageNotFound,
)
from app.org.models import Village, VillageAccessPoint
from app.org.outlines import served_outline
from app.org.schemas import (
    AccessPointIn,
    AccessPointList,
    AccessPointOut,
    MyAssignment,
    UnitOfficeIn,
    UnitOfficeOut,
    VillageFeature,
    VillageProperties,
    VillageSummary,
)
from app.org.scope import resolve_scope

router = APIRouter(tags=["villages"])

VillageCode = Annotated[str, Path(pattern=r"^\d{12}$", description="12-digit village code")]


@router.get(
    "/villages",
    response_model=Page[VillageSummary],
    responses=error_responses(InvalidScope, ScopeNotFound, InvalidCursor),
)
def list_villages(
    principal: CurrentPrincipal,
    session: SessionDep,
    scope: Annotated[DivisionPrefix | None, Query(description="division code prefix")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[VillageSummary]:
    """Villages under `scope` that the caller may see, by code."""
    prefix = resolve_scope(session, principal, scope)
    after = cursor_text(cursor)
    rows = service.list_villages(session, principal, prefix, after, limit + 1)
    items = [_summary(v) for v in rows[:limit]]
    next_cursor = encode_cursor([rows[limit - 1].code]) if len(rows) > limit else None
    return Page[VillageSummary](items=items, next_cursor=next_cursor)


@router.get(
    "/villages/{code}",
    response_model=VillageFeature,
    responses=error_responses(VillageNotFound),
)
def get_village(
    code: VillageCode, principal: CurrentPrincipal, session: SessionDep, policy: PolicyDep
) -> VillageFeature:
    """The village's current boundary as a GeoJSON Feature, simplified to the policy's
    `villages.outline_tolerance_m` (check-ins are matched against the whole boundary)."""
    village, boundary = service.get_visible_village(session, principal, code)
    return VillageFeature(
        geometry=served_outline(session, boundary, policy.villages.outline_tolerance_m),
        properties=VillageProperties(
            code=village.code,
            name=village.name,
            township_code=village.township_code,
            county_code=village.county_code,
            valid_from=boundary.valid_from,
        ),
    )


@router.get(
    "/villages/{code}/wifi",
    response_model=AccessPointList,
    responses=error_responses(VillageNotFound),
)
def list_village_wifi(
    code: VillageCode, principal: SupervisorPrincipal, session: SessionDep
) -> AccessPointList:
    """The village's registered Wi-Fi access points (township and up, in scope)."""
    points = access_points.list_access_points(session, principal, code)
    return AccessPointList(
        items=[AccessPointOut.model_validate(p, from_attributes=True) for p in points]
    )


@router.post(
    "/villages/{code}/wifi",
    response_model=AccessPointOut,
    status_code=201,
    responses={
        200: {"description": "already registered", "model": AccessPointOut},
        **error_responses(VillageNotFound),
    },
)
def register_village_wifi(
    code: VillageCode,
    body: AccessPointIn,
    principal: SupervisorPrincipal,
    session: SessionDep,
    response: Response,
) -> AccessPointOut:
    """Register an access point of the village (the committee office, the team's dormitory):
    a check-in whose phone sees it gains `wifi_match: true`. Registering it again answers
    200 with the point as registered."""
    point, created = access_points.register_access_point(
        session, principal, code, body.bssid, body.label, utcnow()
    )
    if not created:
        response.status_code = 200
    return _access_point(point)


@router.get(
    "/me/assignment",
    response_model=MyAssignment,
    responses=error_responses(RoleRequired, NoAssignment, VillageNotFound),
    tags=["auth"],
)
def get_my_assignment(
    principal: MemberPrincipal, session: SessionDep, policy: PolicyDep
) -> MyAssignment:
    """Today's assignment with the village boundary, so the phone can draw it."""
    assert principal.member_id is not None
    assignment = service.assignment_on(session, principal.member_id, today(policy.zone))
    if assignment is None:
        raise NoAssignment()
    village, boundary = service.get_visible_village(session, principal, assignment.village_code)
    return MyAssignment(
        village_code=village.code,
        village_name=village.name,
        township_code=township_of(village.code),
        county_code=county_of(village.code),
        start_date=assignment.start_date,
        end_date=assignment.end_date,
        boundary=served_outline(session, boundary, policy.villages.outline_tolerance_m),
    )


UnitName = Annotated[
    str, Path(min_length=1, max_length=200, description="the dispatching unit's name")
]
OfficeSetter = Annotated[Principal, Depends(require_roles("county", "city", "admin"))]
OfficeReader = Annotated[
    Principal, Depends(require_roles("township", "county", "city", "unit", "auditor", "admin"))
]


@router.put(
    "/units/{name}/office",
    response_model=UnitOfficeOut,
    responses=error_responses(RoleRequired, UnitNotFound),
    tags=["units"],
)
def put_unit_office(
    name: UnitName, body: UnitOfficeIn, principal: OfficeSetter, session: SessionDep
) -> UnitOfficeOut:
    """Set or move a dispatching unit's office (两头跑), county users and up, for a unit with
    a member posted in their scope: a member's fix within `radius_m` of it on a working day
    carries the evidence flag `at_home_unit`, a roll-call answer from there is rejected
    (`at_home_unit`), and such fixes on `policy.compliance.unit_days` working days of a
    period make the violation `recalled_to_unit`. Fixes stored before keep their judgement."""
    return units.set_office(session, principal, name, body, utcnow())


@router.get(
    "/units/{name}/office",
    response_model=UnitOfficeOut,
    responses=error_responses(RoleRequired, UnitNotFound),
    tags=["units"],
)
def get_unit_office(name: UnitName, principal: OfficeReader, session: SessionDep) -> UnitOfficeOut:
    """The unit's office (404 `unit_not_found` when none is set or the unit is outside the
    caller's scope; a `unit` user reads their own)."""
    office = units.office_of(units.visible_unit(session, principal, name))
    if office is None:
        raise UnitNotFound(name=name)
    return office


def _summary(village: Village) -> VillageSummary:
    return VillageSummary(
        code=village.code,
        name=village.name,
        township_code=village.township_code,
        county_code=village.county_code,
    )


def _access_point(point: VillageAccessPoint) -> AccessPointOut:
    return AccessPointOut.model_validate(point, from_attributes=True)
