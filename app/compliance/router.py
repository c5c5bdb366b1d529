"""HTTP routes of compliance: a member against the quota, every rule, a scope, the year."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.auth.dependencies import CurrentPrincipal, require_roles
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.compliance import annual, periods, rules, scope_list, voice
from app.compliance.errors import InvalidPeriod
from app.compliance.schemas import (
    AnnualHouseholdsOut,
    AnnualOut,
    AnnualRatesOut,
    ComplianceListOut,
    ComplianceRow,
    EventsOut,
    MemberComplianceOut,
    MemberRulesOut,
    RectificationsOut,
    RollCallsOut,
    RuleOut,
    ViolationOut,
    VoiceSourceOut,
)
from app.compliance.violations import Violation
from app.core.deps import PolicyDep, SessionDep
from app.core.errors import error_responses
from app.core.inputs import MAX_DATE, MIN_DATE, DivisionPrefix, MemberRef
from app.core.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    InvalidCursor,
    LimitQuery,
    decode_cursor,
    encode_cursor,
)
from app.core.policy import Policy
from app.core.time import today as local_today
from app.ledger.schemas import CalendarSource
from app.org import service as org_service
from app.org.divisions import is_prefix
from app.org.errors import InvalidScope, MemberNotFound, ScopeNotFound

router = APIRouter(tags=["compliance"])

ScopePrincipal = Annotated[
    Principal,
    Depends(require_roles("township", "county", "city", "unit", "auditor", "admin")),
]
PeriodQuery = Annotated[
    str | None, Query(description="2026Q4, 2026-11 or 2026: the period of a configured rule")
]
QuarterQuery = Annotated[str | None, Query(description="synonym of period (v1)")]


def get_today(policy: PolicyDep) -> date:
    """The deployment's local date (a dependency, so that tests can move the clock)."""
    return local_today(policy.zone)


TodayDep = Annotated[date, Depends(get_today)]


def _period(policy: Policy, period: str | None, quarter: str | None, today: date) -> rules.Period:
    text = period or quarter
    if text is None:  # the current period of the first rule
        return rules.period_of(policy.quota.rules[0].period, today)
    return periods.period_for(policy, text)


@router.get(
    "/compliance/members/{member_id}",
    response_model=MemberComplianceOut,
    responses=error_responses(MemberNotFound, InvalidPeriod),
)
def member_compliance(
    member_id: MemberRef,
    principal: CurrentPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    today: TodayDep,
    period: PeriodQuery = None,
    quarter: QuarterQuery = None,
) -> MemberComplianceOut:
    """The member against the quota rule of the period's kind, with pace and violations."""
    member = org_service.get_visible_member(
        session, principal, org_service.member_id_of(principal, member_id)
    )
    span = _period(policy, period, quarter, today)
    return _member_out(
        periods.member_compliance(session, policy, member, span, today, _within(principal))
    )


@router.get(
    "/compliance/members/{member_id}/rules",
    response_model=MemberRulesOut,
    responses=error_responses(MemberNotFound, InvalidPeriod),
)
def member_rules(
    member_id: MemberRef,
    principal: CurrentPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    today: TodayDep,
    period: PeriodQuery = None,
    quarter: QuarterQuery = None,
) -> MemberRulesOut:
    """Every configured rule over each of its periods that overlap `period`; the quota is met
    only when all are."""
    member = org_service.get_visible_member(
        session, principal, org_service.member_id_of(principal, member_id)
    )
    span = _period(policy, period, quarter, today)
    judged = periods.member_rules(session, policy, member, span, today, _within(principal))
    return MemberRulesOut(
        member_id=member.id,
        period=span.label,
        status=rules.worst(j.result.status for j in judged),
        met=all(j.result.status == "met" for j in judged),
        items=[_member_out(j) for j in judged],
    )


@router.get(
    "/compliance",
    response_model=ComplianceListOut,
    responses=error_responses(
        RoleRequired, InvalidPeriod, InvalidScope, ScopeNotFound, InvalidCursor
    ),
)
def compliance_list(
    principal: ScopePrincipal,
    session: SessionDep,
    policy: PolicyDep,
    today: TodayDep,
    period: PeriodQuery = None,
    quarter: QuarterQuery = None,
    scope: Annotated[DivisionPrefix | None, Query(description="division code prefix")] = None,
    unit: Annotated[str | None, Query(description="a dispatching unit's name")] = None,
    status: Annotated[rules.Status | None, Query(description="only this status")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> ComplianceListOut:
    """Members assigned in the period under the scope, worst first (missed, unattainable,
    at_risk, on_track, met, then most days still needed); `summary` counts the whole scope."""
    if scope and not is_prefix(scope):
        raise InvalidScope()
    span = _period(policy, period, quarter, today)
    after = _after(decode_cursor(cursor))
    members = scope_list.scope_filter(session, principal, scope, unit, span)
    rows = scope_list.scope_rows(session, policy, members, span, today, _within(principal))
    summary = dict.fromkeys(rules.STATUS_ORDER, 0)
    for row in rows:
        summary[row.status] += 1
    chosen = [r for r in rows if (status is None or r.status == status) and r.order > after]
    page = chosen[:limit]
    more = len(chosen) > limit
    return ComplianceListOut(
        period=span.label,
        quarter=span.quarter,
        summary=summary,
        items=[ComplianceRow.model_validate(vars(r)) for r in page],
        next_cursor=encode_cursor(list(page[-1].order)) if more else None,
    )


def _after(key: list[object] | None) -> tuple[int, int, int]:
    if key is None:
        return (-1, 0, 0)
    if len(key) != 3 or not all(isinstance(k, int) for k in key):
        raise InvalidCursor()
    return (int(key[0]), int(key[1]), int(key[2]))  # type: ignore[call-overload]


@router.get(
    "/compliance/members/{member_id}/annual",
    response_model=AnnualOut,
    responses=error_responses(MemberNotFound),
)
def member_annual(
    member_id: MemberRef,
    principal: CurrentPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    today: TodayDep,
    year: Annotated[
        int | None, Query(ge=MIN_DATE.year, le=MAX_DATE.year, description="default: this year")
    ] = None,
) -> AnnualOut:
    """The annual evaluation (年考): each quarter, every rule, leave taken and violations.
    Roll calls, events and rectifications come from the supervision records."""
    member = org_service.get_visible_member(
        session, principal, org_service.member_id_of(principal, member_id)
    )
    report = annual.annual(session, policy, member, year or today.year, today, _within(principal))
    counts = report.supervision
    return AnnualOut(
        member_id=member.id,
        year=report.year,
        quarters=[_member_out(j) for j in report.quarters],
        periods=[_member_out(j) for j in report.periods],
        leave_days=report.leave_days,
        violations=[_violation_out(v) for v in report.violations],
        roll_calls=RollCallsOut(
            issued=counts.roll_calls_issued, answered=counts.roll_calls_answered
        ),
        events=EventsOut(reported=counts.events_reported, late=counts.events_late),
        rectifications=RectificationsOut(
            opened=counts.rectifications_opened,
            closed=counts.rectifications_closed,
            overdue=counts.rectifications_overdue,
        ),
        households=AnnualHouseholdsOut.model_validate(vars(report.households)),
        rates=AnnualRatesOut.model_validate(vars(report.rates)),
        grade_hint=report.grade_hint,
        voice=[_voice_out(c) for c in report.voice],
    )


def _voice_out(c: voice.VoiceCount) -> VoiceSourceOut:
    return VoiceSourceOut(
        source=c.source,
        answers=c.answers,
        satisfaction_answers=c.satisfaction_answers,
        satisfied=c.satisfied,
        satisfaction_rate=voice.pooled([c])[0],
        known_answers=c.known_answers,
        known=c.known,
        known_rate=voice.pooled([c])[1],
    )


def _violation_out(v: Violation) -> ViolationOut:
    return ViolationOut(code=v.code, date=v.date, from_=v.start, to=v.end, detail=v.detail)


def _member_out(j: periods.Judged) -> MemberComplianceOut:
    r = j.result
    return MemberComplianceOut(
        member_id=j.member_id,
        period=j.period.label,
        quarter=j.period.quarter,
        period_start=j.period.start,
        period_end=j.period.end,
        rule=RuleOut(
            period=j.rule.period, days=j.rule.days, official_counts=j.rule.official_counts
        ),
        required_days=r.required_days,
        pro_rated=r.pro_rated,
        present_days=r.present_days,
        official_days=r.official_days,
        credited_days=r.credited_days,
        needed_days=r.needed_days,
        leave_days=r.leave_days,
        absent_workdays=r.absent_workdays,
        short_days=r.short_days,
        remaining_days=r.remaining_days,
        status=r.status,
        violations=[_violation_out(v) for v in j.violations],
        calendar=CalendarSource(source=j.calendar.source, fallback_years=j.calendar.fallback_years),
    )


def _within(principal: Principal) -> str:
    """The days a caller judges a member over: those assigned under their division (a member
    who moved is seen by each township for its own days); all of them for the county above
    both, for members, units and admins."""
    return principal.division_prefix or ""
