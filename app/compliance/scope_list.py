"""The compliance list of a scope (GET /compliance, the compliance export, the dashboard and the
monthly bulletin's members below pace): every member the caller may see who served under the
scope in the period, judged over one `gather`, worst first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.compliance import periods, rules
from app.core.policy import Policy
from app.org import service as org_service
from app.org.errors import ScopeNotFound
from app.org.models import Assignment, Member, Unit


@dataclass(frozen=True)
class Row:
    member_id: int
    full_name: str
    unit: str
    village_code: str | None
    status: rules.Status
    required_days: int
    present_days: int
    needed_days: int
    absent_workdays: int
    violations: dict[str, int]  # entries by code (a run of absence is one)

    @property
    def order(self) -> tuple[int, int, int]:
        return (rules.STATUS_ORDER.index(self.status), -self.needed_days, self.member_id)


def scope_filter(
    session: Session, principal: Principal, scope: str | None, unit: str | None, span: rules.Period
) -> ColumnElement[bool]:
    """Members the caller may see, narrowed to `scope` (a division prefix within the caller's)
    and `unit` (a dispatching unit's name; a unit user is held to their own)."""
    filters = [org_service.member_visibility(principal)]
    own = principal.division_prefix
    if scope and own is not None and not scope.startswith(own):
        raise ScopeNotFound(scope=scope)
    prefix = scope or own
    if prefix:
        # Served in the period in a village under the prefix (not merely ever assigned there).
        filters.append(
            Member.id.in_(
                select(Assignment.member_id).where(
                    Assignment.village_code.startswith(prefix),
                    Assignment.start_date <= span.end,
                    or_(Assignment.end_date.is_(None), Assignment.end_date >= span.start),
                )
            )
        )
    if unit is not None:
        if principal.role == "unit" and unit != principal.scope:
            raise ScopeNotFound(scope=unit)
        unit_id = session.scalar(select(Unit.id).where(Unit.name == unit))
        if unit_id is None:
            raise ScopeNotFound(scope=unit)
        filters.append(Member.unit_id == unit_id)
    return and_(*filters)


def scope_rows(
    session: Session,
    policy: Policy,
    members: ColumnElement[bool],
    period: rules.Period,
    today: date,
    within: str = "",
) -> list[Row]:
    """Every member of the scope assigned in the period, worst first (each judged over the
    days under `within`)."""
    rule = policy.quota.rule_for(period.kind)
    assert rule is not None
    out = []
    found = periods.gather(session, policy, members, period, today, counts_only=True, within=within)
    for facts in found.values():
        result = rules.evaluate(rule, period, facts.line, today)
        counts = facts.counts()
        out.append(
            Row(
                facts.member_id,
                facts.full_name,
                facts.unit,
                facts.village_code,
                result.status,
                result.required_days,
                result.present_days,
                result.needed_days,
                result.absent_workdays,
                counts,
            )
        )
    out.sort(key=lambda r: r.order)
    return out
