"""The map page (GET /dashboard, outside /api/v1) and the API it draws from."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, Response

from app.auth.dependencies import require_roles
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.core.deps import PolicyDep, ReportsSessionDep, SessionDep
from app.core.errors import error_responses
from app.core.inputs import Day, DivisionPrefix
from app.core.time import today
from app.org import service as org_service
from app.org.errors import ScopeNotFound, VillageNotFound
from app.org.outlines import served_outline
from app.reports import dashboard
from app.reports.errors import PeriodInFuture
from app.reports.schemas import OverviewOut, VillageTeamOut
from app.reports.scope import resolve

api_router = APIRouter(prefix="/dashboard", tags=["reports"])
page_router = APIRouter(include_in_schema=False)

MapPrincipal = Annotated[
    Principal, Depends(require_roles("township", "county", "city", "auditor", "admin"))
]
DayQuery = Annotated[Day | None, Query(alias="date", description="default: today")]


@api_router.get(
    "/overview",
    response_model=OverviewOut,
    responses=error_responses(RoleRequired, ScopeNotFound, PeriodInFuture),
)
def overview(
    principal: MapPrincipal,
    session: SessionDep,
    reports: ReportsSessionDep,
    policy: PolicyDep,
    day: DayQuery = None,
    scope: Annotated[
        DivisionPrefix | None, Query(max_length=12, description="division prefix")
    ] = None,
    colour: Annotated[
        Literal["on_post", "compliance"],
        Query(description="on_post: the day's on-post state; compliance: the quota period's"),
    ] = "on_post",
) -> Response:
    """The villages under the scope with simplified outlines, coloured by the on-post state of
    the day or by the members' compliance in the quota period; members at risk (absent
    working days, or below pace); the scope's daily on-post rate."""
    now = today(policy.zone)
    when = day or now
    if when > now:
        raise PeriodInFuture(today=now.isoformat())
    prefix = resolve(session, principal, scope).prefix or ""
    by_compliance = (
        dashboard.compliance_by_village(reports, policy, principal, prefix, when, now)
        if colour == "compliance"
        else None
    )
    out = OverviewOut.model_validate(
        dashboard.overview(reports, policy, prefix, when, now, by_compliance)
    )
    # Validated once and serialised once: the outlines of 300 villages are most of the answer.
    return Response(out.model_dump_json(), media_type="application/json")


@api_router.get(
    "/villages/{code}",
    response_model=VillageTeamOut,
    responses=error_responses(RoleRequired, VillageNotFound, PeriodInFuture),
)
def village_team(
    principal: MapPrincipal,
    session: SessionDep,
    reports: ReportsSessionDep,
    policy: PolicyDep,
    code: Annotated[str, Path(pattern=r"^\d{12}$")],
    day: DayQuery = None,
    days: Annotated[int, Query(ge=1, le=31, description="how many last days")] = 7,
) -> VillageTeamOut:
    """A village's boundary (simplified to the policy's `villages.outline_tolerance_m`) and
    its team with their last days."""
    now = today(policy.zone)
    when = day or now
    if when > now:
        raise PeriodInFuture(today=now.isoformat())
    village, boundary = org_service.get_visible_village(session, principal, code)
    return VillageTeamOut.model_validate(
        {
            "code": village.code,
            "name": village.name,
            "boundary": served_outline(session, boundary, policy.villages.outline_tolerance_m),
            "team": dashboard.village_team(reports, policy, code, when, now, days),
        }
    )


def _asset(name: str) -> str:
    return (resources.files("app.reports") / "static" / name).read_text(encoding="utf-8")


@page_router.get("/dashboard", response_class=HTMLResponse)
def page() -> HTMLResponse:
    """The page shell: it signs in with its own form and calls the API with a bearer token."""
    return HTMLResponse(_asset("dashboard.html"), media_type="text/html; charset=utf-8")


@page_router.get("/dashboard/app.js")
def script() -> Response:
    return Response(_asset("dashboard.js"), media_type="text/javascript; charset=utf-8")


@page_router.get("/dashboard/app.css")
def style() -> Response:
    return Response(_asset("dashboard.css"), media_type="text/css; charset=utf-8")
