"""HTTP routes of the national rollup: the national database's figures per province, read
from the rows the provinces publish (app.rollup.service). On a database without the rollup's
tables (SQLite, or PostgreSQL before migration 0024) they answer 409 `rollup_not_configured`.

Who: the readers of the on-post rates and the map (township, county, city, auditor, admin).
A caller sees the provinces whose code starts with their division prefix (admin and a
national auditor: every province; an auditor of province 43: 43); `scope` narrows it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.auth.dependencies import require_roles
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.compliance import rules as compliance_rules
from app.compliance.errors import InvalidPeriod
from app.core.deps import PolicyDep, ReportsSessionDep
from app.core.errors import error_responses
from app.core.inputs import Day, DivisionPrefix
from app.core.time import today
from app.org.errors import InvalidScope, ScopeNotFound
from app.rollup import service
from app.rollup.access import READERS, configured, prefix
from app.rollup.errors import RollupNotConfigured
from app.rollup.schemas import (
    RollupComplianceOut,
    RollupComplianceRow,
    RollupOnPostOut,
    RollupOnPostRow,
)

router = APIRouter(prefix="/rollup", tags=["rollup"])

RollupPrincipal = Annotated[Principal, Depends(require_roles(*READERS))]
ScopeQuery = Annotated[
    DivisionPrefix | None,
    Query(max_length=12, description="division prefix (within the caller's own)"),
]


def _rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 4)


@router.get(
    "/on-post",
    response_model=RollupOnPostOut,
    responses=error_responses(RoleRequired, InvalidScope, ScopeNotFound, RollupNotConfigured),
)
def get_rollup_on_post(
    principal: RollupPrincipal,
    session: ReportsSessionDep,
    policy: PolicyDep,
    day: Annotated[Day | None, Query(alias="date", description="default: today")] = None,
    scope: ScopeQuery = None,
) -> RollupOnPostOut:
    """The on-post rate of a day per province, from the provinces' published ledger days (a
    check-in shows within seconds) and their members' assigned days (as of each province's
    last compliance refresh)."""
    within = prefix(principal, scope)
    connection = configured(session.connection())
    when = day or today(policy.zone)
    return RollupOnPostOut(
        date=when,
        scope=within,
        items=[
            RollupOnPostRow(
                province=row.province,
                assigned=row.assigned,
                present=row.present,
                on_leave=row.on_leave,
                on_post_rate=_rate(row.present, row.assigned),
                on_post_rate_excluding_leave=_rate(row.present, row.assigned - row.on_leave),
            )
            for row in service.on_post(connection, when, within)
        ],
    )


@router.get(
    "/compliance",
    response_model=RollupComplianceOut,
    responses=error_responses(
        RoleRequired, InvalidScope, ScopeNotFound, InvalidPeriod, RollupNotConfigured
    ),
)
def get_rollup_compliance(
    principal: RollupPrincipal,
    session: ReportsSessionDep,
    period: Annotated[str, Query(max_length=10, description="2026Q4, 2026-11 or 2026")],
    scope: ScopeQuery = None,
) -> RollupComplianceOut:
    """The compliance results of a period per province, from the provinces' published
    results (refreshed daily by each province): members judged, compliant (the quota met),
    a count per status, and the day of the oldest judgement."""
    span = compliance_rules.parse_period(period)
    if span is None:
        raise InvalidPeriod(period=period, allowed="2026Q4, 2026-11, 2026")
    within = prefix(principal, scope)
    connection = configured(session.connection())
    return RollupComplianceOut(
        period=span.label,
        scope=within,
        items=[
            RollupComplianceRow(
                province=row.province,
                members=row.members,
                compliant=row.compliant,
                compliance_rate=_rate(row.compliant, row.members),
                summary=row.summary,
                as_of=row.as_of,
            )
            for row in service.compliance(connection, span.label, within)
        ],
    )
