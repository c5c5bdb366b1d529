"""HTTP routes of the ledger domain: a member's presence, and on-post rates."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.auth.dependencies import CurrentPrincipal, require_roles
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.core.deps import PolicyDep, SessionDep
from app.core.errors import error_responses
from app.core.inputs import MAX_ID, Day, DivisionPrefix
from app.core.time import today
from app.ledger import service
from app.ledger.errors import InvalidPeriod
from app.ledger.rules import days_between
from app.ledger.schemas import (
    CalendarSource,
    OnPostOut,
    OnPostRow,
    OverstayOut,
    PresenceDayOut,
    PresenceOut,
)
from app.org import service as org_service
from app.org.divisions import county_of, township_of
from app.org.errors import InvalidScope, MemberNotFound, ScopeNotFound
from app.org.scope import day_visible, resolve_scope

router = APIRouter(tags=["ledger"])

MAX_PERIOD_DAYS = 400
DivisionPrincipal = Annotated[
    Principal, Depends(require_roles("township", "county", "city", "auditor", "admin"))
]


@router.get(
    "/members/{member_id}/presence",
    response_model=PresenceOut,
    responses=error_responses(MemberNotFound, InvalidPeriod),
)
def get_member_presence(
    member_id: Annotated[str, Path(pattern=r"^(me|\d{1,10})$", description="a member id, or `me`")],
    principal: CurrentPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    from_: Annotated[Day | None, Query(alias="from", description="default: 30 days ago")] = None,
    to: Annotated[Day | None, Query(description="default: today")] = None,
) -> Response:
    """The member's ledger, one entry per local day from `from` to `to` (both included)."""
    if member_id == "me":
        if principal.member_id is None:
            raise MemberNotFound(member_id="me")
        mid = principal.member_id
    else:
        mid = int(member_id)
        if mid > MAX_ID:
            raise MemberNotFound(member_id=member_id)
    org_service.get_visible_member(session, principal, mid)
    now = today(policy.zone)
    end = to or now
    start = from_ or end - timedelta(days=30)
    if end < start or (end - start).days >= MAX_PERIOD_DAYS:
        raise InvalidPeriod(max_days=MAX_PERIOD_DAYS)
    report = service.presence(session, policy, mid, start, end, now)
    # A supervisor sees only the days the member was assigned under their scope.
    days = [d for d in report.days if day_visible(principal, d.village_code)]
    seen = {d.date for d in days}
    overstays = [
        o for o in report.overstays if any(d in seen for d in days_between(o.start, o.end))
    ]
    # Built without re-validation (the service's values are already typed) and serialised once:
    # this answers within a few milliseconds for a quarter.
    out = PresenceOut.model_construct(
        member_id=mid,
        days=[PresenceDayOut.model_construct(**vars(d)) for d in days],
        overstays=[OverstayOut.model_construct(**vars(o)) for o in overstays],
        calendar=CalendarSource(
            source=report.calendar_source, fallback_years=report.fallback_years
        ),
    )
    return Response(out.model_dump_json(), media_type="application/json")


@router.get(
    "/presence/on-post",
    response_model=OnPostOut,
    responses=error_responses(RoleRequired, InvalidScope, ScopeNotFound),
)
def get_on_post_rates(
    principal: DivisionPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    day: Annotated[Day | None, Query(alias="date", description="default: today")] = None,
    scope: Annotated[DivisionPrefix | None, Query(description="division code prefix")] = None,
) -> OnPostOut:
    """On-post rate for a day, per village, township and county under `scope` (within the
    caller's own): members assigned that day, present, and on leave (shown separately)."""
    own = principal.division_prefix or ""
    wanted = scope or own
    prefix = resolve_scope(session, principal, scope) or own
    when = day or today(policy.zone)
    villages = service.on_post(session, prefix, when)
    rows = [_rate(v.code, v.name, v.assigned, v.present, v.on_leave) for v in villages]
    return OnPostOut(
        date=when,
        scope=wanted,
        total=_sum(wanted, rows),
        counties=_rollup(rows, county_of),
        townships=_rollup(rows, township_of),
        villages=rows,
    )


def _rate(code: str, name: str | None, assigned: int, present: int, on_leave: int) -> OnPostRow:
    return OnPostRow(
        code=code,
        name=name,
        assigned=assigned,
        present=present,
        on_leave=on_leave,
        on_post_rate=round(present / assigned, 4) if assigned else None,
        on_post_rate_excluding_leave=(
            round(present / (assigned - on_leave), 4) if assigned > on_leave else None
        ),
    )


def _sum(code: str, rows: list[OnPostRow]) -> OnPostRow:
    return _rate(
        code,
        None,
        sum(r.assigned for r in rows),
        sum(r.present for r in rows),
        sum(r.on_leave for r in rows),
    )


def _rollup(rows: list[OnPostRow], parent_of: object) -> list[OnPostRow]:
    assert callable(parent_of)
    groups: dict[str, list[OnPostRow]] = {}
    for row in rows:
        groups.setdefault(parent_of(row.code), []).append(row)
    return [_sum(code, group) for code, group in sorted(groups.items())]
