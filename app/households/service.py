"""Reading households with the caller's scope, and answering them (phones masked)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.policy import Policy
from app.core.time import as_utc
from app.households import rules
from app.households.errors import HouseholdNotFound
from app.households.models import Household, HouseholdPairing, HouseholdPlan, Visit
from app.households.schemas import (
    HouseholdOut,
    MeasureOut,
    PairingOut,
    PlanOut,
    PointOut,
    VisitOut,
)
from app.org.models import Member, Unit

# Who sees a household's phone in full, beside its paired member (API.md).
PHONE_ROLES = ("township", "county", "city", "admin")
# Who lists households by scope.
LIST_ROLES = ("township", "county", "city", "unit", "auditor", "admin")


def visibility(principal: Principal) -> ColumnElement[bool]:
    """A filter on `Household` keeping what this caller may see: by division code, the
    households paired with a unit's members, a member's own paired households."""
    prefix = principal.division_prefix
    if prefix is not None:
        return Household.village_code.startswith(prefix) if prefix else true()
    if principal.role == "member" and principal.member_id is not None:
        return Household.member_id == principal.member_id
    if principal.role == "unit":
        return Household.member_id.in_(
            select(Member.id)
            .join(Unit, Unit.id == Member.unit_id)
            .where(Unit.name == principal.scope)
        )
    return false()


def get_visible(session: Session, principal: Principal, household_id: int) -> Household:
    household = session.scalar(
        select(Household).where(Household.id == household_id, visibility(principal))
    )
    if household is None:
        raise HouseholdNotFound(household_id=household_id)
    return household


def sees_phone(principal: Principal, household: Household) -> bool:
    if principal.member_id is not None and household.member_id == principal.member_id:
        return True
    return principal.role in PHONE_ROLES and principal.covers_village(household.village_code)


def overdue_filter(policy: Policy, today: date, overdue: bool) -> ColumnElement[bool]:
    """Households overdue today (paired ones only): both the pairing's start and the last
    visit older than the tier's days (the due date counts from the later of them)."""
    late = or_(
        *(
            and_(
                Household.risk == risk,
                Household.paired_from < cutoff,
                or_(Household.last_visit_on.is_(None), Household.last_visit_on < cutoff),
            )
            for risk in rules.interval_names()
            for cutoff in [today - timedelta(days=rules.interval_days(policy, risk))]
        )
    )
    paired = Household.member_id.is_not(None)
    return and_(paired, late) if overdue else or_(~paired, ~late)


def plan_out(plan: HouseholdPlan, today: date) -> PlanOut:
    measures = []
    for m in json.loads(plan.measures):
        due = date.fromisoformat(m["due_date"]) if m.get("due_date") else None
        overdue = due is not None and due < today and m["status"] != "done"
        measures.append(
            MeasureOut(
                kind=m["kind"],
                description=m["description"],
                due_date=due,
                status=m["status"],
                overdue=overdue,
            )
        )
    return PlanOut(
        version=plan.version,
        measures=measures,
        overdue_measures=sum(1 for m in measures if m.overdue),
        updated_at=as_utc(plan.created_at),
        updated_by=plan.created_by,
    )


def latest_plans(session: Session, ids: Sequence[int]) -> dict[int, HouseholdPlan]:
    if not ids:
        return {}
    plans: dict[int, HouseholdPlan] = {}
    for plan in session.scalars(
        select(HouseholdPlan)
        .where(HouseholdPlan.household_id.in_(list(ids)))
        .order_by(HouseholdPlan.household_id, HouseholdPlan.version)
    ):
        plans[plan.household_id] = plan  # the last version wins
    return plans


def pairings_of(session: Session, ids: Sequence[int]) -> dict[int, list[HouseholdPairing]]:
    out: dict[int, list[HouseholdPairing]] = {}
    if not ids:
        return out
    for p in session.scalars(
        select(HouseholdPairing)
        .where(HouseholdPairing.household_id.in_(list(ids)))
        .order_by(HouseholdPairing.household_id, HouseholdPairing.from_date, HouseholdPairing.id)
    ):
        out.setdefault(p.household_id, []).append(p)
    return out


def outs(
    session: Session,
    principal: Principal,
    policy: Policy,
    households: Sequence[Household],
    today: date,
) -> list[HouseholdOut]:
    ids = [h.id for h in households]
    pairings = pairings_of(session, ids)
    plans = latest_plans(session, ids)
    return [
        household_out(h, principal, policy, today, pairings.get(h.id, []), plans.get(h.id))
        for h in households
    ]


def household_out(
    h: Household,
    principal: Principal,
    policy: Policy,
    today: date,
    pairings: Sequence[HouseholdPairing],
    plan: HouseholdPlan | None,
) -> HouseholdOut:
    base = rules.due_base(
        h.last_visit_on, h.paired_from, as_utc(h.created_at).astimezone(policy.zone).date()
    )
    due = rules.next_due(base, h.risk, policy)
    return HouseholdOut(
        id=h.id,
        household_code=h.household_code,
        village_code=h.village_code,
        head_name=h.head_name,
        address=h.address,
        location=PointOut(coordinates=(h.longitude, h.latitude)),
        category=h.category,
        risk=h.risk,
        phone=h.phone if sees_phone(principal, h) else rules.mask_phone(h.phone),
        member_id=h.member_id,
        pairings=[
            PairingOut(member_id=p.member_id, from_=p.from_date, to=p.to_date) for p in pairings
        ],
        last_visit_at=as_utc(h.last_visit_at) if h.last_visit_at else None,
        next_due=due,
        overdue=h.member_id is not None and today > due,
        plan=plan_out(plan, today) if plan is not None else None,
    )


def visit_out(visit: Visit, countersign: object = None) -> VisitOut:
    from app.households.schemas import CountersignOffer

    offer = countersign if isinstance(countersign, CountersignOffer) else None
    return VisitOut(
        id=visit.id,
        client_id=visit.client_id,
        household_id=visit.household_id,
        member_id=visit.member_id,
        captured_at=as_utc(visit.captured_at),
        distance_m=round(visit.distance_m, 1),
        at_household=visit.at_household,
        credited=visit.credited,
        checkin_id=visit.checkin_id,
        confirmation=visit.confirmation,
        flags=[f for f in visit.flags.split(",") if f],
        topics=[t for t in visit.topics.split(",") if t],
        note=visit.note,
        problems_found=visit.problems_found,
        countersign=offer,
    )


def refresh_last_visit(session: Session, policy: Policy, household_id: int) -> None:
    """Bring the household's last visit up to date: its latest credited visit no answer has
    denied."""
    household = session.get(Household, household_id)
    if household is None:
        return
    row = session.execute(
        select(Visit.captured_at, Visit.local_date)
        .where(
            Visit.household_id == household_id,
            Visit.credited.is_(True),
            Visit.confirmation != "denied",
        )
        .order_by(Visit.captured_at.desc())
        .limit(1)
    ).first()
    household.last_visit_at = row[0] if row else None
    household.last_visit_on = row[1] if row else None
